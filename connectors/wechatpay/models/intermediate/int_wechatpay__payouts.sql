-- WeChat Pay's withdrawals (提现) from the basic account to the merchant's bank, from the fund flow bill,
-- as payouts. A withdrawal sweeps the balance: every payment and refund traded since the previous
-- withdrawal (swept_from; NULL: since the first), which is how int_wechatpay__payments and
-- int_wechatpay__refunds name the payout that sent their money. The basic account holds CNY; a
-- payout's amount is what left for the bank. The fee share WeChat Pay gave back on the refunds it swept
-- stays on the balance: fct_payouts counts it from the refunds (fee_returned_amount).
with flows as (
    select * from {{ ref('stg_wechatpay__fundflow') }}
),

withdrawals as (
    select
        *,
        lag(booked_at) over (partition by channel_id order by booked_at) as swept_from
    from flows
    where movement_kind = 'payout'
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
        withdrawals._loaded_at
    from withdrawals
)

select * from final
