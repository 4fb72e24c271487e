-- Every code under which a source lists a product (the conformed listings models), resolved to the
-- merchant SKU (product_id). The ERPs' item masters (master_items) and the declared bundles are the SKU list; a code equal to
-- a master SKU matches it, and the merchant's {{ source('ops', 'sku_mapping') }} wins over that for
-- codes that differ. Without an ERP, every code is its own SKU.
with erp_items as (
    {{ union_conformed('master_items') }}
),

merchant_mapping as (
    select channel_id, upper(trim(source_code)) as source_code, upper(trim(product_id)) as product_id
    from {{ source('ops', 'sku_mapping') }}
),

listings as (
    {{ union_conformed('listings') }}
),

bundles as (
    select * from {{ source('ops', 'bundles') }}
),

-- the merchant's SKUs: the ERPs' items, and the bundles (kits) channelhub.yml declares
master_skus as (
    select distinct source_code as product_id from erp_items
    union
    select distinct bundle_id as product_id from bundles
    union
    select distinct source_code as product_id from listings
    where not exists (select 1 from erp_items)
),

resolved as (
    select
        listings.*,
        coalesce(merchant_mapping.product_id, master_skus.product_id) as product_id,
        merchant_mapping.product_id is not null as is_mapped_by_merchant
    from listings
    left join merchant_mapping
        on merchant_mapping.channel_id = listings.channel_id
        and merchant_mapping.source_code = listings.source_code
    left join master_skus
        on master_skus.product_id = listings.source_code
),

final as (
    select distinct
        channel_id || ':' || coalesce(variant_id, source_code) as listing_id,
        product_id,
        channel_id,
        platform,
        source_code,
        variant_id,
        inventory_item_id,
        stock_location_id,
        is_mapped_by_merchant
    from resolved
)

select * from final
