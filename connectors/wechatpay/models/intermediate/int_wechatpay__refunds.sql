-- WeChat Pay's refunds (bill lines REFUND) as refunds: positive amounts, the payment's transaction_id.
-- A refund comes off the balance when made (settled_at). WeChat Pay returns its share of the fee (the
-- line's negative fee: fee_returned_amount), which the payments' fee does not show. Its payout is the
-- withdrawal that swept the balance next, as a payment's (int_wechatpay__payments).
with trades as (
    select * from {{ ref('stg_wechatpay__trades') }}
),

payouts as (
    select * from {{ ref('int_wechatpay__payouts') }}
),

refunds as (
    select * from trades where line_kind = 'refund'
),

final as (
    select
        refunds.refund_id,
        cast('wechatpay' as varchar) as provider,
        refunds.channel_id,
        refunds.transaction_id as payment_id,
        refunds.traded_at as created_at,
        refunds.currency,
        refunds.refund_amount as amount,
        -refunds.fee_amount as fee_returned_amount,
        refunds.status,
        case when refunds.status = 'succeeded' then refunds.traded_at end as settled_at,
        payouts.payout_id,
        greatest(refunds._loaded_at, payouts._loaded_at) as _loaded_at
    from refunds
    left join payouts
        on payouts.channel_id = refunds.channel_id
        and refunds.status = 'succeeded'
        and refunds.traded_at < payouts.created_at
        and (payouts.swept_from is null or refunds.traded_at >= payouts.swept_from)
)

select * from final
