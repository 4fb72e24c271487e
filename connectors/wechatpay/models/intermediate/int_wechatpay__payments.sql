-- WeChat Pay's payments (bill lines SUCCESS) as payments: the gross is the amount to settle
-- (应结订单金额), the fee WeChat Pay's (手续费), the net what the merchant gets. The bill lists a payment
-- once it succeeded: settled_at is when it was paid (WeChat Pay credits the merchant's basic account
-- then). The refunds naming the payment give its refunded amount. The payout is the withdrawal (提现,
-- int_wechatpay__payouts) that swept the basic account next: neither bill says which withdrawal paid a
-- payment out, a balance sweep decides it. No disputes: WeChat Pay has no chargebacks.
with trades as (
    select * from {{ ref('stg_wechatpay__trades') }}
),

payouts as (
    select * from {{ ref('int_wechatpay__payouts') }}
),

payments as (
    select * from trades where line_kind = 'payment'
),

refunded as (
    select channel_id, transaction_id, {{ money_sum('refund_amount') }} as amount_refunded
    from trades
    where line_kind = 'refund' and status = 'succeeded'
    group by channel_id, transaction_id
),

final as (
    select
        payments.transaction_id as payment_id,
        cast('wechatpay' as varchar) as provider,
        payments.channel_id,
        payments.order_id,
        cast('wechatpay' as varchar) as method,
        payments.traded_at as created_at,
        payments.currency,
        payments.settlement_amount as amount,
        payments.settlement_amount as amount_captured,
        coalesce(refunded.amount_refunded, 0) as amount_refunded,
        payments.fee_amount,
        payments.fee_rate,
        payments.settlement_amount - payments.fee_amount as net_amount,
        payments.traded_at as settled_at,
        payouts.payout_id,
        payments.status,
        true as is_captured,
        false as is_disputed,
        -- its payout loads after the payment
        greatest(payments._loaded_at, payouts._loaded_at) as _loaded_at
    from payments
    left join refunded
        on refunded.channel_id = payments.channel_id
        and refunded.transaction_id = payments.transaction_id
    -- the basic account holds one currency: every payment is swept, whatever its bill line says
    left join payouts
        on payouts.channel_id = payments.channel_id
        and payments.traded_at < payouts.created_at
        and (payouts.swept_from is null or payments.traded_at >= payouts.swept_from)
)

select * from final
