-- Alipay's refunds (业务类型 退款) as refunds: positive amounts, the payment its trade_no. A bill lists a
-- refund once it is done, so each is succeeded and settled when it completed. Alipay gives back the
-- refunded share of the payment's 服务费 (fee_returned_amount, from the refund row's positive 服务费). Its
-- payout is the withdrawal that swept the balance next, as a payment's (int_alipay__payments).
with trades as (
    select * from {{ ref('stg_alipay__trades') }}
),

payouts as (
    select * from {{ ref('int_alipay__payouts') }}
),

refunds as (
    select * from trades where entry_kind = 'refund'
),

final as (
    select
        refunds.entry_id as refund_id,
        cast('alipay' as varchar) as provider,
        refunds.channel_id,
        refunds.trade_no as payment_id,
        refunds.completed_at as created_at,
        refunds.currency,
        -refunds.received_amount as amount,
        -refunds.fee_amount as fee_returned_amount,
        cast('succeeded' as varchar) as status,
        refunds.completed_at as settled_at,
        payouts.payout_id,
        greatest(refunds._loaded_at, payouts._loaded_at) as _loaded_at
    from refunds
    left join payouts
        on payouts.channel_id = refunds.channel_id
        and refunds.completed_at < payouts.created_at
        and (payouts.swept_from is null or refunds.completed_at >= payouts.swept_from)
)

select * from final
