-- Guanjiapo's goods: the merchant's SKU list, with names and barcodes.
with goods as (
    select * from {{ ref('stg_guanjiapo__goods') }}
),

final as (
    select channel_id, source_code, product_name, barcode
    from goods
)

select * from final
