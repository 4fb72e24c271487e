-- JD lists a SKU as a ware's SKU (wareId, skuId); outerId is the merchant's code.
with skus as (
    select * from {{ ref('stg_jd__skus') }}
),

final as (
    select channel_id, 'jd' as platform, source_code, sku_id as variant_id,
           sku_id as inventory_item_id, source_item_id as stock_location_id
    from skus
    where source_code is not null
)

select * from final
