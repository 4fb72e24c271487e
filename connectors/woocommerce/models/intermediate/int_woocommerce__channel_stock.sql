-- What the store held of each variation whose stock it manages, at the last load, by its product.
with variations as (
    select * from {{ ref('stg_woocommerce__variations') }}
),

final as (
    select channel_id, source_product_id as location_id, variant_id as inventory_item_id,
           stock_quantity as available_quantity
    from variations
    where manage_stock
)

select * from final
