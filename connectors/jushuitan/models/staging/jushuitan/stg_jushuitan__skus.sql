-- One row per SKU Jushuitan keeps: sku_id is the merchant's code (商品编码), i_id the style (款式编码),
-- sku_code the barcode (国标码).
with source as (
    select * from {{ account_union('jushuitan', 'skus') }}
),

final as (
    select
        channel_id,
        upper(trim(sku_id)) as source_code,
        i_id as style_code,
        name as product_name,
        properties_value as variant_title,
        sku_code as barcode,
        cast('CNY' as varchar) as currency,
        sale_price,
        cost_price,
        enabled = 1 as is_enabled,
        modified as updated_at
    from source
)

select * from final
