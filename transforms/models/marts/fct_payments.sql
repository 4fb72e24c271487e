{{ config(
    materialized='incremental',
    unique_key='payment_id',
    post_hook=[
        "{{ remove_vanished('payment_id', 'select payment_id from ' ~ ref('int_payments')) }}",
        "{{ relink_orders(ref('int_payments'), ref('fct_orders')) }}",
    ],
) }}

-- Grain: one payment at any provider (int_payments). order_id is set only when the order exists in
-- fct_orders.
with payments as (
    select * from {{ ref('int_payments') }}
    {% if is_incremental() %}
    where {{ new_loads() }}
    {% endif %}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

final as (
    select
        payments.payment_id,
        payments.provider,
        payments.channel_id,
        orders.order_id,
        payments.method,
        payments.created_at,
        payments.currency,
        payments.amount,
        payments.amount_captured,
        payments.amount_refunded,
        payments.fee_amount,
        payments.net_amount,
        payments.settled_at,
        payments.payout_id,
        payments.status,
        payments.is_captured,
        payments.is_disputed,
        payments._loaded_at
    from payments
    left join orders on orders.order_id = payments.order_id
)

select * from final
