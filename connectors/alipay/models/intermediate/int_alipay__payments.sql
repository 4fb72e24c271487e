-- Alipay's payments (业务类型 交易) as payments. Alipay takes its 服务费 from each payment as it lands and
-- credits the net to the merchant's balance at once: settled_at is when the trade completed. The
-- refunds of a trade (same trade_no) give its refunded amount. payout_id stays NULL: the trade bill
-- does not say when a balance went to the bank. Alipay has no disputes in the trade bill.
with trades as (
    select * from {{ ref('stg_alipay__trades') }}
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
        payments.received_amount - payments.fee_amount as net_amount,
        payments.completed_at as settled_at,
        cast(null as varchar) as payout_id,
        cast('succeeded' as varchar) as status,
        true as is_captured,
        false as is_disputed,
        -- what changed it last: a refund comes in a later day's bill, loaded after the payment
        greatest(payments._loaded_at, refunded._loaded_at) as _loaded_at
    from payments
    left join refunded
        on refunded.channel_id = payments.channel_id
        and refunded.trade_no = payments.trade_no
)

select * from final
