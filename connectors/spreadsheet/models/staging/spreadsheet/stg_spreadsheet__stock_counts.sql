-- Physical stock counts (盘点) per SKU, warehouse and count date.
with source as (
    select * from {{ account_union('spreadsheet', 'stock_counts') }}
),

final as (
    select
        channel_id,
        upper(trim(sku)) as source_code,
        warehouse as warehouse_id,
        count_date,
        quantity as quantity_on_hand,
        source_file
    from source
)

select * from final
