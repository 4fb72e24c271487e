-- Stripe's refunds, settled like payments (int_stripe__payments): the refund's balance transaction
-- takes the amount off the balance of the day it becomes available, and so off that day's payout.
with refunds as (
    select * from {{ ref('stg_stripe__refunds') }}
),

balance as (
    select * from {{ ref('stg_stripe__balance_transactions') }}
),

payouts as (
    select * from {{ ref('stg_stripe__payouts') }}
),

refund_balance as (
    select * from balance where transaction_type = 'refund'
),

final as (
    select
        refunds.refund_id,
        cast('stripe' as varchar) as provider,
        refunds.channel_id,
        refunds.payment_id,
        refunds.created_at,
        refunds.currency,
        refunds.amount,
        cast(0 as decimal(18, 4)) as fee_returned_amount,  -- Stripe keeps the payment's fee
        refunds.status,
        refund_balance.available_at as settled_at,
        payouts.payout_id,
        greatest(refunds._loaded_at, refund_balance._loaded_at, payouts._loaded_at) as _loaded_at
    from refunds
    left join refund_balance
        on refund_balance.channel_id = refunds.channel_id
        and refund_balance.source_id = refunds.refund_id
    left join payouts
        on payouts.channel_id = refund_balance.channel_id
        and payouts.currency = refund_balance.currency
        and {{ utc_date('payouts.created_at') }} = {{ utc_date('refund_balance.available_at') }}
)

select * from final
