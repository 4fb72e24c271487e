{#- Incremental facts follow dlt's loads. A row is new when its load (the `_loaded_at` load id, in
    seconds) is within `window_seconds` of the newest load the table holds and is not one it already
    holds, so a load that started earlier but committed later is still picked up. The bounds are
    computed first and written into the SQL as constants, which lets the database prune its raw scans
    instead of evaluating the whole model. `on` tests another column against the loads this table
    holds (a report whose rows carry the newest load of all their inputs tests each input's). -#}
{% macro new_loads(column, window_seconds=86400, on=none) -%}
    {%- if not execute -%}{{ return("true") }}{%- endif -%}
    {%- set newest = run_query("select cast(max(" ~ column ~ ") as varchar) from " ~ this).rows[0][0] -%}
    {%- if newest is none -%}{{ return("true") }}{%- endif -%}
    {%- set since = newest | float - window_seconds -%}
    {%- set seen = run_query("select cast(load_id as varchar) from (select distinct " ~ column ~ " as load_id from "
                             ~ this ~ " where " ~ column ~ " > " ~ since ~ ") as loads").columns[0].values() -%}
    {%- set tested = on or column -%}
    {{ tested }} > {{ since }}
    {%- if seen %} and {{ tested }} not in ({{ seen | join(", ") }}){% endif -%}
{%- endmacro %}

{#- Post-hook of an incremental fact: delete the rows whose key no longer exists at the source (an
    order deleted in the shop, a replaced spreadsheet). `current_keys` selects every key the table
    should hold now, each once. After the insert the table holds all of them, so it holds a vanished
    key exactly when it has more keys than `current_keys`: two counts (milliseconds) decide whether
    the anti-join over every key (a third of a second at 1M orders) runs at all. NOT EXISTS rather
    than NOT IN, which deletes nothing as soon as one current key is NULL. -#}
{% macro remove_vanished(key, current_keys) -%}
    {%- call incremental_only() -%}
    {%- set counts = run_query("select (select count(" ~ key ~ ") from " ~ this ~ "), (select count(*) from ("
                               ~ current_keys ~ ") as current_keys)").rows[0] -%}
    {%- if counts[0] > counts[1] -%}
    delete from {{ this }} as fact
    where fact.{{ key }} is not null  -- rows without a key (payments naming no order) are not keyed rows
        and not exists (
            select 1 from ({{ current_keys }}) as current_keys where current_keys.{{ key }} = fact.{{ key }}
        )
    {%- else -%}
    select 1
    {%- endif -%}
    {%- endcall -%}
{%- endmacro %}

{#- Post-hook of an incremental fact whose rows carry a product_id resolved from a source code: when
    the resolution changed since the rows were built (an ops.sku_mapping edit, a new ERP item, a code
    that no longer resolves), update product_id in place. The rows' own loads are old, so new_loads
    would never revisit them; an update touches only the rows whose answer changed. -#}
{% macro reresolve_products(codes, code_column) -%}
    {%- call incremental_only() -%}
    update {{ this }} as fact
    set product_id = changed.product_id
    from (
        select built.channel_id, built.source_code, codes.product_id
        from (select distinct channel_id, {{ code_column }} as source_code, product_id from {{ this }}) as built
        left join {{ codes }} as codes
            on codes.channel_id = built.channel_id
            and codes.source_code = built.source_code
        where built.product_id is distinct from codes.product_id
    ) as changed
    where changed.channel_id = fact.channel_id
        and changed.source_code = fact.{{ code_column }}
    {%- endcall -%}
{%- endmacro %}

{#- Post-hook of an incremental fact of payments: order_id names the order only while the order
    exists. A payment loaded before its order (the provider is read before the shop) gets the order
    once it is in `orders`; a payment whose order was deleted at the source loses it. Neither comes
    with a new load of the payment, so new_loads would never revisit them. -#}
{% macro relink_orders(payments, orders) -%}
    {%- call incremental_only() -%}
    update {{ this }} as fact
    set order_id = relinked.order_id
    from (
        select waiting.payment_id, orders.order_id
        from {{ this }} as waiting
        join {{ payments }} as payments on payments.payment_id = waiting.payment_id
        join {{ orders }} as orders on orders.order_id = payments.order_id
        where waiting.order_id is null
        union all
        select linked.payment_id, cast(null as varchar) as order_id
        from {{ this }} as linked
        where linked.order_id is not null
            and not exists (select 1 from {{ orders }} as orders where orders.order_id = linked.order_id)
    ) as relinked
    where relinked.payment_id = fact.payment_id
    {%- endcall -%}
{%- endmacro %}

{#- Pre-hook of rpt_payment_reconciliation: its rows of payments without an order have no key to
    replace them by; an incremental build deletes them all and computes them again (they are few). -#}
{% macro remove_orphan_rows() -%}
    {%- call incremental_only() -%}
    delete from {{ this }} where order_id is null
    {%- endcall -%}
{%- endmacro %}

{#- The hooks above fix up rows an earlier build left. A table just built whole (first build, full
    refresh, rebuild after a change of logic) has none: their statement is skipped. -#}
{% macro incremental_only() -%}
    {%- if should_full_refresh() or not is_incremental() -%}
    select 1
    {%- else -%}
    {{ caller() }}
    {%- endif -%}
{%- endmacro %}
