-- The ERP lists every material it keeps.
with materials as (
    select * from {{ ref('stg_kingdee__materials') }}
),

final as (
    select channel_id, 'kingdee' as platform, source_code,
           cast(null as varchar) as variant_id, cast(null as varchar) as inventory_item_id,
           cast(null as varchar) as stock_location_id
    from materials
)

select * from final
