-- The 库存 form, a system of record like U8's: one row per SKU and warehouse, as of the account's last
-- successful load.
with stock_rows as (
    select * from {{ ref('stg_jiandaoyun__stock_rows') }}
),

final as (
    select
        channel_id,
        'erp' as source,
        source_code,
        warehouse_id,
        cast(quantity_on_hand as decimal(20, 6)) as quantity_on_hand,
        cast(null as timestamptz) as as_of_at
    from stock_rows
)

select * from final
