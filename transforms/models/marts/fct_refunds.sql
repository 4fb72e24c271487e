{{ config(
    materialized='incremental',
    unique_key='refund_id',
    post_hook=[
        "{{ remove_vanished('refund_id', conformed_keys('refunds', 'refund_id')) }}",
        "{{ follow_payment_orders(ref('fct_payments')) }}",
    ],
) }}

-- Grain: one refund at any payments provider (the conformed refunds models), with the order its
-- payment paid. An incremental build reads the refunds of new loads.
{% set window = load_window() if is_incremental() else none %}
with refunds as (
    {{ union_conformed('refunds', where=loaded_within(window)) }}
),

payments as (
    select * from {{ ref('fct_payments') }}
),

final as (
    select
        refunds.refund_id,
        refunds.provider,
        refunds.channel_id,
        refunds.payment_id,
        payments.order_id,
        refunds.created_at,
        refunds.currency,
        refunds.amount,
        refunds.fee_returned_amount,
        refunds.status,
        refunds.settled_at,
        refunds.payout_id,
        refunds._loaded_at
    from refunds
    left join payments on payments.payment_id = refunds.payment_id
)

select * from final
