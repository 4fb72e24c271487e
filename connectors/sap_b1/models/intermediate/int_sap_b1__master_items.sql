-- SAP B1's item master: the merchant's SKU list, with names and barcodes (items neither invalid nor frozen).
with items as (
    select * from {{ ref('stg_sap_b1__items') }}
),

final as (
    select channel_id, source_code, product_name, barcode
    from items
    where is_disabled is not true
)

select * from final
