{{ config(
    materialized='incremental',
    unique_key='payment_id',
    post_hook=[
        "{{ remove_vanished('payment_id', 'select payment_id from ' ~ ref('int_payments')) }}",
        "{{ relink_orders(ref('int_payments'), ref('fct_orders')) }}",
    ],
) }}

-- Grain: one payment at any provider (int_payments). order_id is set only when the order exists in
-- fct_orders. Where the provider states its fee rate or the account's settings give it (fee_rate),
-- expected_fee_amount is that rate of the captured amount, rounded to the currency's minor unit, and
-- fee_variance what the provider took beyond it (the fee-rate check).
with payments as (
    select * from {{ ref('int_payments') }}
    {% if is_incremental() %}
    where {{ new_loads() }}
    {% endif %}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

joined as (
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
        payments.fee_rate,
        {{ round_money('payments.amount_captured * payments.fee_rate', 'payments.currency') }} as expected_fee_amount,
        payments.net_amount,
        payments.settled_at,
        payments.payout_id,
        payments.status,
        payments.is_captured,
        payments.is_disputed,
        payments._loaded_at
    from payments
    left join orders on orders.order_id = payments.order_id
),

final as (
    select
        payment_id,
        provider,
        channel_id,
        order_id,
        method,
        created_at,
        currency,
        amount,
        amount_captured,
        amount_refunded,
        fee_amount,
        fee_rate,
        expected_fee_amount,
        cast(fee_amount - expected_fee_amount as decimal(18, 4)) as fee_variance,
        net_amount,
        settled_at,
        payout_id,
        status,
        is_captured,
        is_disputed,
        _loaded_at
    from joined
)

select * from final
