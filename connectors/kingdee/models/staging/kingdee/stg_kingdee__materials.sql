-- K3Cloud's material master (BD_MATERIAL): the merchant's SKU list, FNumber being the SKU.
with source as (
    select * from {{ account_union('kingdee', 'materials') }}
),

final as (
    select
        channel_id,
        upper(trim(f_number)) as source_code,
        cast(fmaterialid as varchar) as source_material_id,
        f_name as product_name,
        f_specification as specification,
        f_base_unit_id_f_name as unit,
        f_forbid_status = 'B' as is_disabled,
        f_modify_date as updated_at
    from source
)

select * from final
