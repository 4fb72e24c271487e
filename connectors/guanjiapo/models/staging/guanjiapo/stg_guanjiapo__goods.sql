-- Guanjiapo's goods (ptype): the merchant's SKU list, UserCode (code) being the SKU; goods_id is the
-- internal typeId that stock and document lines reference.
with source as (
    select * from {{ account_union('guanjiapo', 'goods') }}
),

final as (
    select
        channel_id,
        goods_id,
        upper(trim(code)) as source_code,
        name as product_name,
        spec as specification,
        unit,
        nullif(trim(barcode), '') as barcode
    from source
)

select * from final
