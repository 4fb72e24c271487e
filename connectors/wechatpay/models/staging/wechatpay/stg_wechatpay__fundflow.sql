-- One row per line of the basic account's fund flow bills (资金账单): every movement of the merchant's
-- money on WeChat Pay. business_type says what it is (交易 a payment credited, 扣除交易手续费 its fee,
-- 退款 a refund less the fee share returned, 提现 a withdrawal to the bank); signed_amount is the
-- amount signed by direction (收入 in, 支出 out), balance the account's balance after the line.
with source as (
    select * from {{ account_union('wechatpay', 'fundflow') }}
),

final as (
    select
        -- ids
        flow_id,
        channel_id,
        business_id,

        -- kind
        business_name,
        business_type,
        case business_type
            when '交易' then 'payment'
            when '扣除交易手续费' then 'fee'
            when '退款' then 'refund'
            when '提现' then 'payout'
            else 'other'
        end as movement_kind,
        direction,

        -- money (yuan, CNY: the basic account's currency)
        amount,
        case when direction = '收入' then amount else -amount end as signed_amount,
        balance,
        applicant,
        remark,

        cast(bill_date as date) as bill_date,
        booked_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
