-- K3Cloud's on-hand stock (STK_Inventory), a system of record like U8's: one row per material and
-- warehouse, as of the account's last successful load.
with inventory as (
    select * from {{ ref('stg_kingdee__inventory') }}
),

final as (
    select
        channel_id,
        'erp' as source,
        source_code,
        warehouse_id,
        cast(quantity_on_hand as decimal(20, 6)) as quantity_on_hand,
        cast(null as timestamptz) as as_of_at
    from inventory
)

select * from final
