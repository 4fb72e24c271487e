{#- Conformed models: how a connector feeds the marts without the marts naming it.

    A connector ships one intermediate model per role it plays, named int_<connector>__<role>, with
    exactly the role's columns below: a channel sells (orders, order_lines; an order's
    payment_gateways comma-separated, presentment_*: the currency the customer paid in, else the
    order's own) and lists products
    (listings: inventory_item_id is what stock write-back sets; stock_location_id, for a channel without
    locations of its own (Taobao, JD, Pinduoduo, WooCommerce), the item, ware or goods that holds the
    listing's stock, NULL for one with locations) and shows the stock it sells (channel_stock, as last
    loaded, per location and inventory item); every source that knows people contributes their records (customers); an ERP keeps the SKU list (master_items) and stock (stock_levels: source 'erp' for a
    system of record, 'stock_count' for a physical count; as_of_at NULL means as of the account's last
    successful load); a payments provider takes money (payments: the gross, the provider's fee and
    the net in the payment's currency, fee_rate the contracted rate of the fee where the provider states
    it or the account's settings give it (else NULL), settled_at when the net became available, the
    payout that sent it to the bank), gives it back (refunds: fee_returned_amount the share of the
    payment's fee the provider gave back with it, 0 where it keeps the fee) and pays out (payouts); a
    logistics account ships
    (shipments: one parcel of an order, order_id '<shop account>:<order id>' as fct_orders keys it, its
    carrier, waybill (tracking_code), label cost, current status and delivery time) and tracks
    (tracking_events: each carrier scan of a shipment, event_index its place in the parcel's story; a
    tracker handed the waybill leaves shipment_id NULL; tracker_answers: such a tracker's latest answer
    per waybill asked, scans or none, _loaded_at when) and, where its labels list their items, says
    what they carry (shipment_lines: the units of an order line a live label ships, order_line_id as
    fct_order_lines keys it where the label names the shop's line; they stop reserving stock). transforms/project.py finds
    them in every installed connector's models and hands their names to dbt as the var `conformed`
    ({role: [model, ...]}); the marts union them with union_conformed. Adding a channel touches its own
    package only. -#}
{% macro conformed_columns(role) -%}
    {%- set roles = {
        "orders": ["order_id", "channel_id", "platform", "source_order_id", "order_number", "email", "phone",
                   "ordered_at", "updated_at", "currency", "subtotal_amount", "shipping_amount", "tax_amount",
                   "discount_amount", "total_amount", "refunded_amount", "source_financial_status",
                   "source_fulfillment_status", "is_cancelled", "line_count", "item_quantity", "is_test",
                   "payment_gateways", "presentment_currency", "presentment_total_amount",
                   "presentment_refunded_amount", "_loaded_at"],
        "order_lines": ["order_line_id", "order_id", "channel_id", "source_sku", "quantity", "unit_price",
                        "line_amount", "currency", "ordered_at", "refunded_quantity", "open_quantity", "_loaded_at"],
        "listings": ["channel_id", "platform", "source_code", "variant_id", "inventory_item_id", "stock_location_id"],
        "channel_stock": ["channel_id", "location_id", "inventory_item_id", "available_quantity"],
        "customers": ["channel_id", "source_customer_id", "email", "phone", "first_name", "last_name", "created_at"],
        "master_items": ["channel_id", "source_code", "product_name", "barcode"],
        "stock_levels": ["channel_id", "source", "source_code", "warehouse_id", "quantity_on_hand", "as_of_at"],
        "payments": ["payment_id", "provider", "channel_id", "order_id", "method", "created_at", "currency", "amount",
                     "amount_captured", "amount_refunded", "fee_amount", "fee_rate", "net_amount", "settled_at", "payout_id",
                     "status", "is_captured", "is_disputed", "_loaded_at"],
        "refunds": ["refund_id", "provider", "channel_id", "payment_id", "created_at", "currency", "amount",
                    "fee_returned_amount", "status", "settled_at", "payout_id", "_loaded_at"],
        "payouts": ["payout_id", "provider", "channel_id", "currency", "amount", "status", "created_at", "arrival_at",
                    "_loaded_at"],
        "shipments": ["shipment_id", "provider", "channel_id", "order_id", "carrier", "service", "tracking_code",
                      "shipped_at", "delivered_at", "status", "last_event_at", "last_event_message", "cost_amount",
                      "currency", "event_count", "_loaded_at"],
        "tracking_events": ["event_id", "shipment_id", "provider", "channel_id", "tracking_code", "carrier",
                            "event_index", "occurred_at", "status", "status_detail", "message", "city", "country",
                            "_loaded_at"],
        "tracker_answers": ["provider", "channel_id", "carrier", "tracking_code", "_loaded_at"],
        "shipment_lines": ["shipment_id", "provider", "channel_id", "order_id", "order_line_id", "source_sku",
                           "quantity", "shipped_at", "_loaded_at"],
    } -%}
    {%- if role not in roles -%}
        {{ exceptions.raise_compiler_error("conformed role " ~ role ~ " is not one of " ~ roles.keys() | list) }}
    {%- endif -%}
    {{ return(roles[role]) }}
{%- endmacro %}

{#- The models of `role`, by name (the var transforms/project.py sets; its default in dbt_project.yml). -#}
{% macro conformed_models(role) -%}
    {{ return(var("conformed")[role] | default([], true)) }}
{%- endmacro %}

{#- Every `role` model's rows, with the role's columns in one order; `where` (SQL on those columns)
    filters each model before the union, so a filter on _loaded_at reaches each model's scans. -#}
{% macro union_conformed(role, where=none) -%}
    {%- set columns = conformed_columns(role) -%}
    {%- for model in conformed_models(role) %}
    select {{ columns | join(", ") }}
    from {{ ref(model) }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
    {%- if not loop.last %}
    union all
    {%- endif -%}
    {%- else %}
    {%- set types = optional_role_types(role) %}
    {%- if not types %}
    {{ exceptions.raise_compiler_error("no model conforms to role " ~ role) }}
    {%- endif %}
    select
        {%- for column in columns %}
        cast(null as {{ portable_type(types[column]) }}) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    where 1 = 0
    {%- endfor %}
{%- endmacro %}

{#- The column types of the roles that no installed connector may play (logistics: a merchant's hub
    without a shipping connector package): union_conformed gives such a role's columns, typed, and no
    row, so its marts still build. Other roles always have a model in this project. -#}
{% macro optional_role_types(role) -%}
    {%- set shipment = {"shipment_id": "text", "provider": "text", "channel_id": "text", "order_id": "text",
                        "carrier": "text", "service": "text", "tracking_code": "text", "shipped_at": "timestamptz",
                        "delivered_at": "timestamptz", "status": "text", "last_event_at": "timestamptz",
                        "last_event_message": "text", "cost_amount": "money", "currency": "text",
                        "event_count": "bigint", "_loaded_at": "text"} -%}
    {%- set event = {"event_id": "text", "shipment_id": "text", "provider": "text", "channel_id": "text",
                     "tracking_code": "text", "carrier": "text", "event_index": "bigint", "occurred_at": "timestamptz",
                     "status": "text", "status_detail": "text", "message": "text", "city": "text", "country": "text",
                     "_loaded_at": "text"} -%}
    {%- set answer = {"provider": "text", "channel_id": "text", "carrier": "text", "tracking_code": "text",
                      "_loaded_at": "text"} -%}
    {%- set line = {"shipment_id": "text", "provider": "text", "channel_id": "text", "order_id": "text",
                    "order_line_id": "text", "source_sku": "text", "quantity": "bigint", "shipped_at": "timestamptz",
                    "_loaded_at": "text"} -%}
    {{ return({"shipments": shipment, "tracking_events": event, "tracker_answers": answer,
               "shipment_lines": line}.get(role, {})) }}
{%- endmacro %}

{#- `select <key> from <model>` for every `role` model: the current keys remove_vanished compares with. -#}
{% macro conformed_keys(role, key) -%}
    {%- set queries = [] -%}
    {%- for model in conformed_models(role) -%}
        {%- do queries.append("select " ~ key ~ " from " ~ ref(model)) -%}
    {%- endfor -%}
    {{ return(queries) }}
{%- endmacro %}
