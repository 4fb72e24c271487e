with source as (
    select * from {{ account_union('stripe', 'customers') }}
),

final as (
    select
        channel_id,
        id as source_customer_id,
        lower(trim(email)) as email,
        {{ phone_digits('phone') }} as phone,
        name as full_name,
        created as created_at
    from source
)

select * from final
