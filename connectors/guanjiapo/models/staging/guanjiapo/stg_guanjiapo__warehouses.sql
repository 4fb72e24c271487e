-- Guanjiapo's warehouses (stock, 仓库): the user's code is the warehouse id the stock policy names.
with source as (
    select * from {{ account_union('guanjiapo', 'warehouses') }}
),

final as (
    select
        channel_id,
        warehouse_id as source_warehouse_id,
        trim(code) as warehouse_code,
        name as warehouse_name
    from source
)

select * from final
