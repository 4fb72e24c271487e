-- K3Cloud's on-hand stock (STK_Inventory) per material and warehouse, shaped as U8's current stock.
with source as (
    select * from {{ account_union('kingdee', 'inventory') }}
),

final as (
    select
        channel_id,
        channel_id || ':' || fid as stock_row_id,
        upper(trim(f_material_id_f_number)) as source_code,
        f_stock_id_f_number as warehouse_id,
        f_base_qty as quantity_on_hand,
        f_base_avb_qty as quantity_available
    from source
)

select * from final
