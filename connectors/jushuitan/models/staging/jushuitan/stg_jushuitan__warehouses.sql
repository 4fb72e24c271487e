-- One row per warehouse: the main one (主仓, whose wms_co_id is the company's co_id) and its branches.
with source as (
    select * from {{ account_union('jushuitan', 'warehouses') }}
),

final as (
    select
        channel_id,
        cast(wms_co_id as varchar) as warehouse_id,
        name as warehouse_name,
        is_main,
        status
    from source
)

select * from final
