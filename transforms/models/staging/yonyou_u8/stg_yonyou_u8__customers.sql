with source as (
    select * from {{ account_union('yonyou_u8', 'customer') }}
),

final as (
    select
        channel_id,
        c_cus_code as source_customer_id,
        lower(trim(c_cus_email)) as email,
        {{ phone_digits('c_cus_phone') }} as phone,
        c_cus_name as full_name,
        d_modify_date as updated_at
    from source
)

select * from final
