-- Stripe's customers: one full name, split at the first space.
with customers as (
    select * from {{ ref('stg_stripe__customers') }}
),

final as (
    select
        channel_id,
        source_customer_id,
        email,
        phone,
        split_part(full_name, ' ', 1) as first_name,
        nullif(substr(full_name, length(split_part(full_name, ' ', 1)) + 2), '') as last_name,
        created_at
    from customers
)

select * from final
