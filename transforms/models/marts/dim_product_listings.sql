-- Grain: one code under which one source lists a product (a Shopify variant, an ERP item, a code in
-- the store exports). product_id is NULL where the code matches no merchant SKU: add it to
-- {{ source('ops', 'sku_mapping') }}.
with listings as (
    select * from {{ ref('int_product_listings') }}
),

final as (
    select
        listing_id,
        product_id,
        channel_id,
        platform,
        source_code,
        variant_id,
        inventory_item_id,
        is_mapped_by_merchant
    from listings
)

select * from final
