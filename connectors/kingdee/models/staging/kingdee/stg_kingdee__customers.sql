-- K3Cloud's customers (BD_Customer); FNumber is what sales orders reference (FCustId.FNumber).
with source as (
    select * from {{ account_union('kingdee', 'customers') }}
),

final as (
    select
        channel_id,
        f_number as source_customer_id,
        {{ phone_digits('ftel') }} as phone,
        f_name as full_name,
        f_forbid_status = 'B' as is_disabled,
        f_modify_date as updated_at
    from source
)

select * from final
