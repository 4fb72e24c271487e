-- WooCommerce's buyers as the billing details of their orders: a registered customer by their id, a
-- guest by email, each as their latest order gives them.
with orders as (
    select * from {{ ref('stg_woocommerce__orders') }}
),

buyers as (
    select
        *,
        coalesce(source_customer_id, 'guest:' || email) as buyer_id,
        row_number() over (
            partition by channel_id, coalesce(source_customer_id, 'guest:' || email) order by updated_at desc
        ) as recency,
        min(ordered_at) over (partition by channel_id, coalesce(source_customer_id, 'guest:' || email)) as first_order_at
    from orders
),

final as (
    select channel_id, buyer_id as source_customer_id, email, phone, first_name, last_name,
           first_order_at as created_at
    from buyers
    where recency = 1 and buyer_id is not null
)

select * from final
