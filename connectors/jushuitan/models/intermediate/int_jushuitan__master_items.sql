-- Jushuitan's SKUs: the merchant's SKU list as the OMS keeps it, with names and barcodes.
with skus as (
    select * from {{ ref('stg_jushuitan__skus') }}
),

final as (
    select channel_id, source_code, product_name, barcode
    from skus
)

select * from final
