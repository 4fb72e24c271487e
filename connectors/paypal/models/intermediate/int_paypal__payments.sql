-- PayPal's payments (event codes T00xx) as payments. PayPal takes its fee from each payment as it
-- lands, so the net is available at once: settled_at is when the payment completed. The refunds and
-- disputes naming a payment (reference_transaction_id) give its refunded amount and is_disputed.
-- payout_id stays NULL: a withdrawal (T0400) moves a balance and Transaction Search does not say
-- which transactions it paid out.
with transactions as (
    select * from {{ ref('stg_paypal__transactions') }}
),

payments as (
    select * from transactions where transaction_kind = 'payment'
),

refunded as (
    select channel_id, reference_transaction_id, {{ money_sum('-amount') }} as amount_refunded
    from transactions
    where transaction_kind = 'refund' and status = 'succeeded'
    group by channel_id, reference_transaction_id
),

disputed as (
    select distinct channel_id, reference_transaction_id
    from transactions
    where transaction_kind = 'dispute'
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
        payments.amount - payments.fee_amount as net_amount,
        case when payments.status = 'succeeded' then payments.updated_at end as settled_at,
        cast(null as varchar) as payout_id,
        payments.status,
        payments.status = 'succeeded' as is_captured,
        disputed.reference_transaction_id is not null as is_disputed,
        payments._loaded_at
    from payments
    left join refunded
        on refunded.channel_id = payments.channel_id
        and refunded.reference_transaction_id = payments.transaction_id
    left join disputed
        on disputed.channel_id = payments.channel_id
        and disputed.reference_transaction_id = payments.transaction_id
)

select * from final
