-- Grain: one merchant SKU, described by the ERP item master where there is one.
with listings as (
    select * from {{ ref('int_product_listings') }}
),

erp_items as (
    {{ union_conformed('master_items') }}
),

shopify_variants as (
    select * from {{ ref('stg_shopify__variants') }}
),

listing_summary as (
    select
        product_id,
        count(*) as listing_count,
        string_agg(distinct channel_id, ',' order by channel_id) as channels
    from listings
    where product_id is not null
    group by product_id
),

described as (
    select
        listing_summary.product_id,
        min(erp_items.product_name) as product_name,
        min(shopify_variants.variant_title) as variant,
        coalesce(min(erp_items.barcode), min(shopify_variants.barcode)) as barcode,
        listing_summary.listing_count,
        listing_summary.channels
    from listing_summary
    left join erp_items on erp_items.source_code = listing_summary.product_id
    left join shopify_variants on shopify_variants.source_code = listing_summary.product_id
    group by listing_summary.product_id, listing_summary.listing_count, listing_summary.channels
),

final as (
    select * from described
)

select * from final
