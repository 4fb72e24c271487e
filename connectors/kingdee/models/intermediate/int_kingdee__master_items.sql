-- K3Cloud's material master: the merchant's SKU list, with names (materials carry no barcode field
-- in the fields read).
with materials as (
    select * from {{ ref('stg_kingdee__materials') }}
),

final as (
    select channel_id, source_code, product_name, cast(null as varchar) as barcode
    from materials
    where is_disabled is not true
)

select * from final
