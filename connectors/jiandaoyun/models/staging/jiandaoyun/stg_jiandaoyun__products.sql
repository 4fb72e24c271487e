-- The 商品 form: the merchant's SKU list (sku is the merchant SKU), one row per record.
with source as (
    select * from {{ account_union('jiandaoyun', 'products') }}
),

final as (
    select
        channel_id,
        upper(trim(sku)) as source_code,
        data_id as source_record_id,
        name as product_name,
        spec as specification,
        unit,
        barcode,
        upper(currency) as currency,
        price as unit_price,
        updated_at
    from source
)

select * from final
