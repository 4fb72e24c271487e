-- Every customer record of every source, keyed by the person it belongs to: the normalised email,
-- or the phone where a source has no email. customer_id comes from the customer_key macro, as in
-- fct_orders, so it is stable across builds and the same in the facts and dim_customers.
with shopify_customers as (
    select * from {{ ref('stg_shopify__customers') }}
),

stripe_customers as (
    select * from {{ ref('stg_stripe__customers') }}
),

erp_customers as (
    select * from {{ ref('stg_yonyou_u8__customers') }}
),

identities as (
    select channel_id, source_customer_id, email, phone, first_name, last_name, created_at
    from shopify_customers
    union all
    select channel_id, source_customer_id, email, phone,
           split_part(full_name, ' ', 1) as first_name,
           nullif(substr(full_name, length(split_part(full_name, ' ', 1)) + 2), '') as last_name,
           created_at
    from stripe_customers
    union all
    select channel_id, source_customer_id, email, phone, cast(null as varchar) as first_name,
           cast(null as varchar) as last_name, updated_at as created_at
    from erp_customers
),

final as (
    select
        {{ customer_key('email', 'phone') }} as customer_id,
        *
    from identities
    where coalesce(nullif(email, ''), nullif(phone, '')) is not null
)

select * from final
