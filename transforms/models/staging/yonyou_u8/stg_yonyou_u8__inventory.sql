-- U8's item master (Inventory): the merchant's SKU list, cInvCode being the SKU.
with source as (
    select * from {{ account_union('yonyou_u8', 'inventory') }}
),

final as (
    select
        channel_id,
        upper(trim(c_inv_code)) as source_code,
        c_inv_name as product_name,
        c_inv_std as specification,
        c_inv_add_code as barcode,
        d_modify_date as updated_at
    from source
)

select * from final
