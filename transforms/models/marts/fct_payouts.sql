{{ config(materialized='table') }}

-- Grain: one payout of any provider (the conformed payouts models), with the payments and refunds it
-- settled: the settlement reconciliation. A payout sends the nets of its payments less its refunds
-- (a refund that gave part of its payment's fee back, as Alipay's and WeChat Pay's do, takes that much
-- less); difference is what it sent beyond that (negative: short), so a payout that is not balanced is
-- a fee, a hold or a transaction the warehouse lacks.
with payouts as (
    {{ union_conformed('payouts') }}
),

payments as (
    select * from {{ ref('fct_payments') }}
),

refunds as (
    select * from {{ ref('fct_refunds') }}
),

payments_per_payout as (
    select
        channel_id,
        payout_id,
        count(*) as payment_count,
        {{ money_sum('amount_captured') }} as gross_amount,
        {{ money_sum('fee_amount') }} as fee_amount,
        {{ money_sum('net_amount') }} as net_amount
    from payments
    where payout_id is not null
    group by channel_id, payout_id
),

refunds_per_payout as (
    select
        channel_id,
        payout_id,
        count(*) as refund_count,
        {{ money_sum('amount') }} as refunded_amount,
        {{ money_sum('fee_returned_amount') }} as fee_returned_amount
    from refunds
    where payout_id is not null
    group by channel_id, payout_id
),

settled as (
    select
        payouts.*,
        coalesce(payments_per_payout.payment_count, 0) as payment_count,
        coalesce(refunds_per_payout.refund_count, 0) as refund_count,
        coalesce(payments_per_payout.gross_amount, 0) as gross_amount,
        coalesce(payments_per_payout.fee_amount, 0) - coalesce(refunds_per_payout.fee_returned_amount, 0)
            as fee_amount,
        coalesce(refunds_per_payout.refunded_amount, 0) as refunded_amount,
        coalesce(payments_per_payout.net_amount, 0) - coalesce(refunds_per_payout.refunded_amount, 0)
            + coalesce(refunds_per_payout.fee_returned_amount, 0) as expected_amount
    from payouts
    left join payments_per_payout
        on payments_per_payout.channel_id = payouts.channel_id
        and payments_per_payout.payout_id = payouts.payout_id
    left join refunds_per_payout
        on refunds_per_payout.channel_id = payouts.channel_id
        and refunds_per_payout.payout_id = payouts.payout_id
),

final as (
    select
        payout_id,
        provider,
        channel_id,
        currency,
        amount,
        status,
        created_at,
        arrival_at,
        payment_count,
        refund_count,
        gross_amount,
        fee_amount,
        refunded_amount,
        expected_amount,
        cast(amount - expected_amount as decimal(18, 4)) as difference,
        amount = expected_amount as is_balanced,
        _loaded_at
    from settled
)

select * from final
