-- What ShipStation's live labels carry, per order line: one row per item of a label not voided, the
-- quantity of the SKU shipped in it and when (the label's creation). order_id is '<shop account>:<shop
-- order id>' as fct_orders keys it; shop_line_id the shop's line (lineItemKey). A line sent in two
-- parcels has two rows. Not a conformed role: the shipped quantities for whoever needs them (the
-- reservations), read as they are.
with items as (
    select * from {{ ref('stg_shipstation__shipment_items') }}
),

shipments as (
    select * from {{ ref('int_shipstation__shipments') }}
),

final as (
    select
        shipments.shipment_id,
        items.channel_id,
        shipments.order_id,
        items.shop_line_id,
        items.item_index,
        items.source_sku,
        items.quantity,
        shipments.shipped_at,
        shipments._loaded_at
    from items
    inner join shipments
        on shipments.shipment_id = items.channel_id || ':' || cast(items.source_shipment_id as varchar)
    where shipments.status <> 'cancelled'
)

select * from final
