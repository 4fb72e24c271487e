-- Products: a simple product is sold under its own SKU; a variable one through its variations.
with source as (
    select * from {{ account_union('woocommerce', 'products') }}
),

final as (
    select
        channel_id,
        cast(id as varchar) as source_product_id,
        name as product_name,
        type as product_type,
        upper(trim(sku)) as source_code,
        stock_quantity,
        manage_stock
    from source
)

select * from final
