-- Taobao lists a SKU as an item's SKU (num_iid, sku_id); outer_id is the merchant's code.
with skus as (
    select * from {{ ref('stg_taobao__skus') }}
),

final as (
    select channel_id, 'taobao' as platform, source_code, sku_id as variant_id,
           sku_id as inventory_item_id, source_item_id as stock_location_id
    from skus
    where source_code is not null
)

select * from final
