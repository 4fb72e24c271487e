-- Every SKU the OMS keeps, as the code its orders and stock name (no listing of its own to push to).
with skus as (
    select * from {{ ref('stg_jushuitan__skus') }}
),

final as (
    select channel_id, 'jushuitan' as platform, source_code,
           cast(null as varchar) as variant_id, cast(null as varchar) as inventory_item_id,
           cast(null as varchar) as stock_location_id
    from skus
)

select * from final
