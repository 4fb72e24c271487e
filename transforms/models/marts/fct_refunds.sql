{{ config(
    materialized='incremental',
    unique_key='refund_id',
    post_hook=[
        "{{ remove_vanished('refund_id', 'select refund_id from ' ~ ref('stg_stripe__refunds')) }}",
        "{{ follow_payment_orders(ref('fct_payments')) }}",
    ],
) }}

-- Grain: one refund at the payments provider (Stripe), with the order its charge paid.
with refunds as (
    select * from {{ ref('stg_stripe__refunds') }}
    {% if is_incremental() %}
    where {{ new_loads() }}
    {% endif %}
),

payments as (
    select * from {{ ref('fct_payments') }}
),

final as (
    select
        refunds.refund_id,
        'stripe' as provider,
        refunds.channel_id,
        refunds.payment_id,
        payments.order_id,
        refunds.created_at,
        refunds.currency,
        refunds.amount,
        refunds.status,
        refunds._loaded_at
    from refunds
    left join payments on payments.payment_id = refunds.payment_id
)

select * from final
