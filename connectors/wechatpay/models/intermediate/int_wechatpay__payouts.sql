-- WeChat Pay's withdrawals (提现) from the basic account to the merchant's bank, from the fund flow bill,
-- as payouts. A withdrawal sweeps the balance: every payment and refund traded since the previous
-- withdrawal (swept_from; NULL: since the first), which is how int_wechatpay__payments and
-- int_wechatpay__refunds name the payout that sent their money. The basic account holds CNY; a
-- payout's amount is what left for the bank.
with flows as (
    select * from {{ ref('stg_wechatpay__fundflow') }}
),

withdrawals as (
    select * from flows where movement_kind = 'payout'
),

final as (
    select
        business_id as payout_id,
        cast('wechatpay' as varchar) as provider,
        channel_id,
        cast('CNY' as varchar) as currency,
        amount,
        cast('paid' as varchar) as status,
        booked_at as created_at,
        booked_at as arrival_at,
        lag(booked_at) over (partition by channel_id order by booked_at) as swept_from,
        _loaded_at
    from withdrawals
)

select * from final
