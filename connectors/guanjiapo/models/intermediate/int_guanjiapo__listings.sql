-- The ERP lists every goods record it keeps.
with goods as (
    select * from {{ ref('stg_guanjiapo__goods') }}
),

final as (
    select channel_id, 'guanjiapo' as platform, source_code,
           cast(null as varchar) as variant_id, cast(null as varchar) as inventory_item_id,
           cast(null as varchar) as stock_location_id
    from goods
)

select * from final
