{{ config(
    materialized='incremental',
    unique_key='order_id',
    post_hook=[
        "{{ remove_vanished('order_id', conformed_keys('orders', 'order_id')) }}",
        "{{ relink_customers(ref('int_customer_identities')) }}",
    ],
) }}

-- Grain: one order of any sales channel (the conformed orders models: web shops, marketplaces,
-- offline store receipts), amounts in the order's currency, status normalised across channels.
with all_orders as (
    {{ union_conformed('orders') }}
),

order_customers as (
    select record_id as order_id, customer_id
    from {{ ref('int_customer_identities') }}
    where record_kind = 'order'
),

normalised as (
    select
        all_orders.*,
        case
            when is_cancelled then 'cancelled'
            when source_financial_status = 'refunded' then 'refunded'
            when source_financial_status = 'partially_refunded' then 'partially_refunded'
            when source_financial_status = 'paid' and source_fulfillment_status = 'fulfilled' then 'fulfilled'
            when source_financial_status = 'paid' then 'paid'
            else 'pending'
        end as status,
        order_customers.customer_id
    from all_orders
    left join order_customers on order_customers.order_id = all_orders.order_id
),

final as (
    select
        order_id,
        channel_id,
        platform,
        source_order_id,
        order_number,
        customer_id,
        ordered_at,
        updated_at,
        currency,
        subtotal_amount,
        shipping_amount,
        tax_amount,
        discount_amount,
        total_amount,
        refunded_amount,
        status,
        source_financial_status,
        source_fulfillment_status,
        is_cancelled,
        line_count,
        item_quantity,
        is_test,
        payment_gateways,
        presentment_currency,
        presentment_total_amount,
        presentment_refunded_amount,
        _loaded_at
    from normalised
)

select * from final
{% if is_incremental() %}
where {{ new_loads() }}
{% endif %}
