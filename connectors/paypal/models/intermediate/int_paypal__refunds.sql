-- PayPal's refunds (T1107) as refunds: positive amounts, the payment in paypal_reference_id. A refund
-- comes off the balance at once (settled_at); PayPal keeps the payment's fee. No payout: see
-- int_paypal__payments.
with transactions as (
    select * from {{ ref('stg_paypal__transactions') }}
),

refunds as (
    select * from transactions where transaction_kind = 'refund'
),

final as (
    select
        transaction_id as refund_id,
        cast('paypal' as varchar) as provider,
        channel_id,
        reference_transaction_id as payment_id,
        created_at,
        currency,
        -amount as amount,
        status,
        case when status = 'succeeded' then updated_at end as settled_at,
        cast(null as varchar) as payout_id,
        _loaded_at
    from refunds
)

select * from final
