-- JD lists a SKU as a ware's SKU (wareId, skuId); outerId is the merchant's code.
with skus as (
    select * from {{ ref('stg_jd__skus') }}
),

final as (
    select channel_id, 'jd' as platform, source_code, sku_id as variant_id,
           cast(null as varchar) as inventory_item_id
    from skus
    where source_code is not null
)

select * from final
