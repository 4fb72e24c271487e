-- The 商品 form is the merchant's SKU list, with names and barcodes.
with products as (
    select * from {{ ref('stg_jiandaoyun__products') }}
),

final as (
    select channel_id, source_code, product_name, barcode
    from products
)

select * from final
