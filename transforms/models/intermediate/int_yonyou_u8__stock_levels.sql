-- U8's CurrentStock, the system of record for stock: one row per item, warehouse and batch, as of the
-- account's last successful load.
with current_stock as (
    select * from {{ ref('stg_yonyou_u8__current_stock') }}
),

final as (
    select
        channel_id,
        'erp' as source,
        source_code,
        warehouse_id,
        cast(quantity_on_hand as decimal(20, 6)) as quantity_on_hand,
        cast(null as timestamptz) as as_of_at
    from current_stock
)

select * from final
