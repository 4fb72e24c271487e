-- U8 CurrentStock: on-hand (iQuantity) per item, warehouse and batch.
with source as (
    select * from {{ account_union('yonyou_u8', 'current_stock') }}
),

final as (
    select
        channel_id,
        channel_id || ':' || cast(auto_id as varchar) as stock_row_id,
        upper(trim(c_inv_code)) as source_code,
        c_wh_code as warehouse_id,
        i_quantity as quantity_on_hand,
        f_ava_quantity as quantity_available
    from source
)

select * from final
