-- What ShipStation's live labels carry, per order line (conformed shipment_lines role): one row per item
-- of a label not voided, the units of the SKU it ships and when (the label's creation). order_id is
-- '<shop account>:<shop order id>' as fct_orders keys it; order_line_id '<shop account>:<shop line id>'
-- (lineItemKey, the line id the store integration sends) as fct_order_lines keys it. A line sent in two
-- parcels has two rows. The reservations count these units as gone even before the shop hears of it.
with items as (
    select * from {{ ref('stg_shipstation__shipment_items') }}
),

-- from staging, not from int_shipstation__shipments: a conformed model stands alone, so a hub that
-- builds this role without ShipStation's other models still gets its typed, empty rows
shipments as (
    select * from {{ ref('stg_shipstation__shipments') }}
),

orders as (
    select * from {{ ref('stg_shipstation__orders') }}
),

labelled_orders as (
    select
        shipments.channel_id,
        shipments.source_shipment_id,
        shipments.created_at,
        shipments._loaded_at,
        coalesce(shipments.shop_account, orders.shop_account) as shop_account,
        coalesce(shipments.shop_order_id, orders.shop_order_id) as shop_order_id
    from shipments
    left join orders
        on orders.channel_id = shipments.channel_id
        and orders.source_order_id = shipments.source_order_id
    where not shipments.is_voided
),

final as (
    select
        labelled_orders.channel_id || ':' || cast(labelled_orders.source_shipment_id as varchar) as shipment_id,
        cast('shipstation' as varchar) as provider,
        items.channel_id,
        labelled_orders.shop_account || ':' || labelled_orders.shop_order_id as order_id,
        labelled_orders.shop_account || ':' || items.shop_line_id as order_line_id,
        items.source_sku,
        items.quantity,
        labelled_orders.created_at as shipped_at,
        labelled_orders._loaded_at
    from items
    inner join labelled_orders
        on labelled_orders.channel_id = items.channel_id
        and labelled_orders.source_shipment_id = items.source_shipment_id
)

select * from final
