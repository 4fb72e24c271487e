-- What the shop sold of each SKU at the last load, held by its item (the listing's stock_location_id).
with skus as (
    select * from {{ ref('stg_jd__skus') }}
),

final as (
    select channel_id, source_item_id as location_id, sku_id as inventory_item_id, available_quantity
    from skus
)

select * from final
