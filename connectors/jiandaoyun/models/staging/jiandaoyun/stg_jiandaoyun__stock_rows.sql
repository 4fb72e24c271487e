-- The 库存 form: on-hand stock per SKU and warehouse, as of the account's last load.
with source as (
    select * from {{ account_union('jiandaoyun', 'stock') }}
),

final as (
    select
        channel_id,
        channel_id || ':' || data_id as stock_row_id,
        upper(trim(sku)) as source_code,
        warehouse as warehouse_id,
        quantity as quantity_on_hand
    from source
)

select * from final
