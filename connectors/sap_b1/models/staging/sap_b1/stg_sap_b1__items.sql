-- SAP B1's item master (Items, OITM): ItemCode is the merchant SKU; tYES/tNO flags read as booleans.
with source as (
    select * from {{ account_union('sap_b1', 'items') }}
),

final as (
    select
        channel_id,
        upper(trim(item_code)) as source_code,
        item_name as product_name,
        foreign_name,
        nullif(trim(bar_code), '') as barcode,
        inventory_uom as unit,
        inventory_item = 'tYES' as is_inventory_item,
        sales_item = 'tYES' as is_sales_item,
        valid = 'tNO' or frozen = 'tYES' as is_disabled,
        updated_at
    from source
)

select * from final
