-- WooCommerce lists a SKU as a variation of a variable product, or as a simple product itself.
with variations as (
    select * from {{ ref('stg_woocommerce__variations') }}
),

products as (
    select * from {{ ref('stg_woocommerce__products') }}
),

final as (
    select channel_id, 'woocommerce' as platform, source_code, variant_id, variant_id as inventory_item_id,
           source_product_id as stock_location_id  -- a variation's stock is set through its product
    from variations
    where source_code is not null
    union all
    select channel_id, 'woocommerce' as platform, source_code, source_product_id as variant_id,
           cast(null as varchar) as inventory_item_id, cast(null as varchar) as stock_location_id  -- not pushed yet
    from products
    where product_type = 'simple' and source_code is not null
)

select * from final
