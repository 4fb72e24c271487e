-- The 客户 form's customers (a name and a phone, no email): known to dim_customers by phone.
with customers as (
    select * from {{ ref('stg_jiandaoyun__customers') }}
),

final as (
    select channel_id, source_customer_id, cast(null as varchar) as email, phone,
           cast(null as varchar) as first_name, cast(null as varchar) as last_name, created_at
    from customers
)

select * from final
