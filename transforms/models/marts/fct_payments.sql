{{ config(
    materialized='incremental',
    unique_key='payment_id',
    post_hook=[
        "{{ remove_vanished('payment_id', 'select payment_id from ' ~ ref('stg_stripe__charges')) }}",
        "{{ relink_orders(ref('stg_stripe__charges'), ref('fct_orders')) }}",
    ],
) }}

-- Grain: one payment (a Stripe charge). order_id is set only when the order exists in fct_orders.
with charges as (
    select * from {{ ref('stg_stripe__charges') }}
    {% if is_incremental() %}
    where {{ new_loads() }}
    {% endif %}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

final as (
    select
        charges.payment_id,
        'stripe' as provider,
        charges.channel_id,
        orders.order_id,
        charges.created_at,
        charges.currency,
        charges.amount,
        charges.amount_captured,
        charges.amount_refunded,
        charges.status,
        charges.is_captured,
        charges.is_disputed,
        charges._loaded_at
    from charges
    left join orders on orders.order_id = charges.order_id
)

select * from final
