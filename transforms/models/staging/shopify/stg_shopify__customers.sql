with source as (
    select * from {{ account_union('shopify', 'customers') }}
),

final as (
    select
        channel_id,
        cast(id as varchar) as source_customer_id,
        lower(trim(email)) as email,
        {{ phone_digits('phone') }} as phone,
        first_name,
        last_name,
        created_at
    from source
)

select * from final
