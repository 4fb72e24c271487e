-- A Shopify listing of a SKU: the variant and the inventory item its stock is kept on.
with source as (
    select * from {{ account_union('shopify', 'products__variants') }}
),

final as (
    select
        channel_id,
        cast(id as varchar) as variant_id,
        cast(product_id as varchar) as source_product_id,
        upper(trim(sku)) as source_code,
        title as variant_title,
        barcode,
        cast(inventory_item_id as varchar) as inventory_item_id
    from source
)

select * from final
