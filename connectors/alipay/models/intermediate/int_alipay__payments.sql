-- Alipay's payments (业务类型 交易) as payments. Alipay takes its 服务费 from each payment as it lands and
-- credits the net to the merchant's balance at once: settled_at is when the trade completed. The
-- refunds of a trade (same trade_no) give its refunded amount. The payout is the withdrawal (提现 in the
-- account bill) that swept the balance next (int_alipay__payouts). fee_rate is the contracted rate of
-- the account's settings (the bill states none). Alipay has no disputes in the trade bill.
with trades as (
    select * from {{ ref('stg_alipay__trades') }}
),

payouts as (
    select * from {{ ref('int_alipay__payouts') }}
),

payments as (
    select * from trades where entry_kind = 'payment'
),

refunded as (
    select channel_id, trade_no, {{ money_sum('-received_amount') }} as amount_refunded, max(_loaded_at) as _loaded_at
    from trades
    where entry_kind = 'refund'
    group by channel_id, trade_no
),

final as (
    select
        payments.trade_no as payment_id,
        cast('alipay' as varchar) as provider,
        payments.channel_id,
        payments.order_id,
        cast('alipay' as varchar) as method,
        payments.created_at,
        payments.currency,
        payments.order_amount as amount,
        payments.received_amount as amount_captured,
        coalesce(refunded.amount_refunded, 0) as amount_refunded,
        payments.fee_amount,
        payments.fee_rate,
        payments.received_amount - payments.fee_amount as net_amount,
        payments.completed_at as settled_at,
        payouts.payout_id,
        cast('succeeded' as varchar) as status,
        true as is_captured,
        false as is_disputed,
        -- what changed it last: a refund comes in a later day's bill, its payout in a later account bill
        greatest(payments._loaded_at, refunded._loaded_at, payouts._loaded_at) as _loaded_at
    from payments
    left join refunded
        on refunded.channel_id = payments.channel_id
        and refunded.trade_no = payments.trade_no
    left join payouts
        on payouts.channel_id = payments.channel_id
        and payments.completed_at < payouts.created_at
        and (payouts.swept_from is null or payments.completed_at >= payouts.swept_from)
)

select * from final
