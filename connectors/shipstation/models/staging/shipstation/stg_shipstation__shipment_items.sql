-- One row per item of a label (shipmentItems, read with includeShipmentItems=true): the SKU and the
-- quantity the parcel carries, and the shop's line it ships (lineItemKey, the shop's line id).
with source as (
    select * from {{ account_union('shipstation', 'shipments__shipment_items') }}
),

final as (
    select
        shipment_id as source_shipment_id,
        channel_id,
        _dlt_list_idx as item_index,
        nullif(trim(line_item_key), '') as shop_line_id,
        sku as source_sku,
        quantity
    from source
)

select * from final
