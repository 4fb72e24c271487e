-- K3Cloud's on-hand stock (STK_Inventory), a system of record like U8's: one row per material and
-- warehouse, as of the account's last successful load.
with inventory as (
    select * from {{ ref('stg_kingdee__inventory') }}
),

final as (
    {{ stock_of_record('inventory') }}
)

select * from final
