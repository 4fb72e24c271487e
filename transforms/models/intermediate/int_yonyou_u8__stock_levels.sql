-- U8's CurrentStock, the system of record for stock: one row per item, warehouse and batch, as of the
-- account's last successful load.
with current_stock as (
    select * from {{ ref('stg_yonyou_u8__current_stock') }}
),

final as (
    {{ stock_of_record('current_stock') }}
)

select * from final
