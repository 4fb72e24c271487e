-- Shopify lists a SKU as a variant, whose stock is kept on an inventory item.
with variants as (
    select * from {{ ref('stg_shopify__variants') }}
),

final as (
    select channel_id, 'shopify' as platform, source_code, variant_id, inventory_item_id,
           cast(null as varchar) as stock_location_id  -- Shopify keeps stock per location
    from variants
)

select * from final
