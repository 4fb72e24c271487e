-- What ShipStation's live labels carry, per order line (conformed shipment_lines role): one row per item
-- of a label not voided, the units of the SKU it ships and when (the label's creation). order_id is
-- '<shop account>:<shop order id>' as fct_orders keys it; order_line_id '<shop account>:<shop line id>'
-- (lineItemKey, the line id the store integration sends) as fct_order_lines keys it. A line sent in two
-- parcels has two rows. The reservations count these units as gone even before the shop hears of it.
with items as (
    select * from {{ ref('stg_shipstation__shipment_items') }}
),

shipments as (
    select * from {{ ref('int_shipstation__shipments') }}
),

final as (
    select
        shipments.shipment_id || ':' || cast(items.item_index as varchar) as shipment_line_id,
        shipments.shipment_id,
        shipments.provider,
        items.channel_id,
        shipments.order_id,
        case
            when items.shop_line_id is not null and shipments.order_id is not null
                then split_part(shipments.order_id, ':', 1) || ':' || items.shop_line_id
        end as order_line_id,
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
