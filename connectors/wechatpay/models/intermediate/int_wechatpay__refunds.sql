-- WeChat Pay's refunds (bill lines REFUND) as refunds: positive amounts, the payment's transaction_id.
-- A refund comes off the balance when made (settled_at). WeChat Pay returns its share of the fee (the
-- line's negative fee), which the payments' fee does not show. No payout: see int_wechatpay__payments.
with trades as (
    select * from {{ ref('stg_wechatpay__trades') }}
),

refunds as (
    select * from trades where line_kind = 'refund'
),

final as (
    select
        refund_id,
        cast('wechatpay' as varchar) as provider,
        channel_id,
        transaction_id as payment_id,
        traded_at as created_at,
        currency,
        refund_amount as amount,
        -fee_amount as fee_returned_amount,
        status,
        case when status = 'succeeded' then traded_at end as settled_at,
        cast(null as varchar) as payout_id,
        _loaded_at
    from refunds
)

select * from final
