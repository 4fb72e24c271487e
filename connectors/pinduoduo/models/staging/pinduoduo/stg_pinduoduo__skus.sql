-- A Pinduoduo listing of a SKU: the goods (goods_id) and SKU whose quantity stock write-back sets.
with source as (
    select * from {{ account_union('pinduoduo', 'skus') }}
),

final as (
    select
        channel_id,
        cast(sku_id as varchar) as sku_id,
        cast(goods_id as varchar) as source_item_id,
        upper(trim(outer_id)) as source_code,
        goods_name as product_name,
        spec as variant_title,
        sku_quantity as available_quantity,
        is_sku_onsale = 1 as is_on_sale
    from source
)

select * from final
