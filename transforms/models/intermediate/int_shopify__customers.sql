-- Shopify's customers as the conformed customer records (identities of dim_customers).
with customers as (
    select * from {{ ref('stg_shopify__customers') }}
),

final as (
    select channel_id, source_customer_id, email, phone, first_name, last_name, created_at
    from customers
)

select * from final
