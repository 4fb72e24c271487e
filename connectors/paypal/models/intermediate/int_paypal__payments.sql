-- PayPal's payments (event codes T00xx) as payments. PayPal takes its fee from each payment as it
-- lands, so the net is available at once: settled_at is when the payment completed. The refunds and
-- disputes naming a payment (reference_transaction_id) give its refunded amount and is_disputed. The
-- payout is the withdrawal that swept the payment's currency next (int_paypal__payouts): Transaction
-- Search does not list what a withdrawal paid out, a balance sweep decides it.
with transactions as (
    select * from {{ ref('stg_paypal__transactions') }}
),

payouts as (
    select * from {{ ref('int_paypal__payouts') }}
),

payments as (
    select * from transactions where transaction_kind = 'payment'
),

refunded as (
    select
        channel_id,
        reference_transaction_id,
        {{ money_sum('-amount') }} as amount_refunded,
        max(_loaded_at) as _loaded_at
    from transactions
    where transaction_kind = 'refund' and status = 'succeeded'
    group by channel_id, reference_transaction_id
),

disputed as (
    select channel_id, reference_transaction_id, max(_loaded_at) as _loaded_at
    from transactions
    where transaction_kind = 'dispute'
    group by channel_id, reference_transaction_id
),

final as (
    select
        payments.transaction_id as payment_id,
        cast('paypal' as varchar) as provider,
        payments.channel_id,
        payments.order_id,
        cast('paypal' as varchar) as method,
        payments.created_at,
        payments.currency,
        payments.amount,
        case when payments.status = 'succeeded' then payments.amount else 0 end as amount_captured,
        coalesce(refunded.amount_refunded, 0) as amount_refunded,
        payments.fee_amount,
        cast(null as decimal(38, 9)) as fee_rate,  -- PayPal's pricing is not in its data
        payments.amount - payments.fee_amount as net_amount,
        case when payments.status = 'succeeded' then payments.updated_at end as settled_at,
        payouts.payout_id,
        payments.status,
        payments.status = 'succeeded' as is_captured,
        disputed.reference_transaction_id is not null as is_disputed,
        -- what changed it last: a refund, a dispute or its payout loads after the payment
        greatest(payments._loaded_at, refunded._loaded_at, disputed._loaded_at, payouts._loaded_at) as _loaded_at
    from payments
    left join refunded
        on refunded.channel_id = payments.channel_id
        and refunded.reference_transaction_id = payments.transaction_id
    left join disputed
        on disputed.channel_id = payments.channel_id
        and disputed.reference_transaction_id = payments.transaction_id
    left join payouts
        on payouts.channel_id = payments.channel_id
        and payouts.currency = payments.currency
        and payments.status = 'succeeded'
        and payments.created_at < payouts.created_at
        and (payouts.swept_from is null or payments.created_at >= payouts.swept_from)
)

select * from final
