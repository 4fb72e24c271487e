-- PayPal's refunds (T1107) as refunds: positive amounts, the payment in paypal_reference_id. A refund
-- comes off the balance at once (settled_at); PayPal keeps the payment's fee. Its payout is the
-- withdrawal that swept the balance next, as a payment's (int_paypal__payments).
with transactions as (
    select * from {{ ref('stg_paypal__transactions') }}
),

payouts as (
    select * from {{ ref('int_paypal__payouts') }}
),

refunds as (
    select * from transactions where transaction_kind = 'refund'
),

final as (
    select
        refunds.transaction_id as refund_id,
        cast('paypal' as varchar) as provider,
        refunds.channel_id,
        refunds.reference_transaction_id as payment_id,
        refunds.created_at,
        refunds.currency,
        -refunds.amount as amount,
        cast(0 as decimal(18, 4)) as fee_returned_amount,  -- PayPal keeps the payment's fee
        refunds.status,
        case when refunds.status = 'succeeded' then refunds.updated_at end as settled_at,
        payouts.payout_id,
        greatest(refunds._loaded_at, payouts._loaded_at) as _loaded_at
    from refunds
    left join payouts
        on payouts.channel_id = refunds.channel_id
        and payouts.currency = refunds.currency
        and refunds.status = 'succeeded'
        and refunds.created_at < payouts.created_at
        and (payouts.swept_from is null or refunds.created_at >= payouts.swept_from)
)

select * from final
