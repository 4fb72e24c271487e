-- Stripe's charges as payments. The fee and the net are the charge's balance transaction's; the
-- payout is the automatic payout of the day that net became available, in its currency (Stripe
-- pays out each day's available balance per currency). A declined charge moved no money: no fee.
with charges as (
    select * from {{ ref('stg_stripe__charges') }}
),

balance as (
    select * from {{ ref('stg_stripe__balance_transactions') }}
),

payouts as (
    select * from {{ ref('stg_stripe__payouts') }}
),

charge_balance as (
    select * from balance where transaction_type = 'charge'
),

final as (
    select
        charges.payment_id,
        cast('stripe' as varchar) as provider,
        charges.channel_id,
        charges.order_id,
        cast('card' as varchar) as method,
        charges.created_at,
        charges.currency,
        charges.amount,
        charges.amount_captured,
        charges.amount_refunded,
        charge_balance.fee_amount,
        cast(null as decimal(38, 9)) as fee_rate,  -- Stripe's pricing is not in its data
        charge_balance.net_amount,
        charge_balance.available_at as settled_at,
        payouts.payout_id,
        charges.status,
        charges.is_captured,
        charges.is_disputed,
        greatest(charges._loaded_at, charge_balance._loaded_at, payouts._loaded_at) as _loaded_at
    from charges
    left join charge_balance
        on charge_balance.channel_id = charges.channel_id
        and charge_balance.source_id = charges.payment_id
    left join payouts
        on payouts.channel_id = charge_balance.channel_id
        and payouts.currency = charge_balance.currency
        and {{ utc_date('payouts.created_at') }} = {{ utc_date('charge_balance.available_at') }}
)

select * from final
