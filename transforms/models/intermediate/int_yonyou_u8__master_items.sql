-- U8's item master (Inventory): the merchant's SKU list, with names and barcodes.
with items as (
    select * from {{ ref('stg_yonyou_u8__inventory') }}
),

final as (
    select channel_id, source_code, product_name, barcode
    from items
)

select * from final
