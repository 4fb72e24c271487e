-- SAP B1's stock per item and warehouse (Items' ItemWarehouseInfoCollection, OITW), shaped as U8's
-- current stock: InStock on hand, Committed reserved by open sales orders.
with source as (
    select * from {{ account_union('sap_b1', 'stock') }}
),

final as (
    select
        channel_id,
        channel_id || ':' || item_code || '/' || warehouse_code as stock_row_id,
        upper(trim(item_code)) as source_code,
        warehouse_code as warehouse_id,
        in_stock as quantity_on_hand,
        in_stock - coalesce(committed, 0) as quantity_available
    from source
)

select * from final
