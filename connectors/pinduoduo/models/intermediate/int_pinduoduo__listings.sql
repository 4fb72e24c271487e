-- Pinduoduo lists a SKU as a goods' SKU (goods_id, sku_id); outer_id is the merchant's code.
with skus as (
    select * from {{ ref('stg_pinduoduo__skus') }}
),

final as (
    select channel_id, 'pinduoduo' as platform, source_code, sku_id as variant_id,
           sku_id as inventory_item_id, source_item_id as stock_location_id
    from skus
    where source_code is not null
)

select * from final
