-- Variations of variable products: the merchant SKU, its price and the stock the store shows.
with source as (
    select * from {{ account_union('woocommerce', 'variations') }}
),

final as (
    select
        channel_id,
        cast(id as varchar) as variant_id,
        cast(_products_id as varchar) as source_product_id,
        upper(trim(sku)) as source_code,
        barcode,
        price,
        stock_quantity,
        manage_stock
    from source
)

select * from final
