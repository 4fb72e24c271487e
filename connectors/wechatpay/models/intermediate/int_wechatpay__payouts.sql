-- WeChat Pay's withdrawals (提现) from the basic account to the merchant's bank, from the fund flow bill,
-- as payouts. A withdrawal sweeps the balance: every payment and refund traded since the previous
-- withdrawal (swept_from; NULL: since the first), which is how int_wechatpay__payments and
-- int_wechatpay__refunds name the payout that sent their money. The basic account holds CNY; a
-- payout's amount is what left for the bank. fee_returned_amount (not a payouts role column) is the fee
-- share WeChat Pay gave back on the refunds it swept: it stays on the balance, so fct_payouts shows it
-- in the payout's difference (the refunds role has no fee); the rest of a difference is unexplained.
with flows as (
    select * from {{ ref('stg_wechatpay__fundflow') }}
),

trades as (
    select * from {{ ref('stg_wechatpay__trades') }}
),

withdrawals as (
    select
        *,
        lag(booked_at) over (partition by channel_id order by booked_at) as swept_from
    from flows
    where movement_kind = 'payout'
),

fee_returned as (
    select
        withdrawals.channel_id,
        withdrawals.flow_id,
        {{ money_sum('-trades.fee_amount') }} as fee_returned_amount
    from withdrawals
    inner join trades
        on trades.channel_id = withdrawals.channel_id
        and trades.line_kind = 'refund'
        and trades.status = 'succeeded'
        and trades.traded_at < withdrawals.booked_at
        and (withdrawals.swept_from is null or trades.traded_at >= withdrawals.swept_from)
    group by withdrawals.channel_id, withdrawals.flow_id
),

final as (
    select
        withdrawals.business_id as payout_id,
        cast('wechatpay' as varchar) as provider,
        withdrawals.channel_id,
        cast('CNY' as varchar) as currency,
        withdrawals.amount,
        cast('paid' as varchar) as status,
        withdrawals.booked_at as created_at,
        withdrawals.booked_at as arrival_at,
        withdrawals.swept_from,
        coalesce(fee_returned.fee_returned_amount, 0) as fee_returned_amount,
        withdrawals._loaded_at
    from withdrawals
    left join fee_returned
        on fee_returned.channel_id = withdrawals.channel_id
        and fee_returned.flow_id = withdrawals.flow_id
)

select * from final
