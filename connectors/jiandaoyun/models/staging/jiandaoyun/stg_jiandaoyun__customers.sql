-- The 客户 form: customer_code is what the 销售出库单 form references; owner is the member in charge.
with source as (
    select * from {{ account_union('jiandaoyun', 'customers') }}
),

final as (
    select
        channel_id,
        customer_code as source_customer_id,
        name as full_name,
        contact as contact_name,
        {{ phone_digits('phone') }} as phone,
        owner as owner_username,
        created_at,
        updated_at
    from source
)

select * from final
