-- The 库存 form, a system of record like U8's: one row per SKU and warehouse, as of the account's last
-- successful load.
with stock_rows as (
    select * from {{ ref('stg_jiandaoyun__stock_rows') }}
),

final as (
    {{ stock_of_record('stock_rows') }}
)

select * from final
