-- One row per row of Alipay's daily account bills (signcustomer, 账务明细): each movement of the
-- merchant's balance. 业务类型 (business_type) says what it is: 在线支付 (交易付款 in other accounts) a
-- payment coming in, 交易退款 a refund going out, 收费 a fee (an expense; income where a refund gave part of
-- a fee back), 提现 a withdrawal to the bank. amount is signed (income +, expense −) whichever way the bill
-- writes 支出; balance is the account's after the movement. 业务流水号 (business_no) is the trade's
-- 支付宝交易号 for a payment, refund or fee, the withdrawal's own number for a 提现. Every amount is yuan.
with source as (
    select * from {{ account_union('alipay', 'account_entries') }}
),

final as (
    select
        -- ids
        entry_no,
        channel_id,
        nullif(business_no, '') as business_no,
        nullif(out_trade_no, '') as out_trade_no,

        -- kind
        business_type,
        case business_type
            when '在线支付' then 'payment'
            when '交易付款' then 'payment'
            when '交易退款' then 'refund'
            when '收费' then 'fee'
            when '提现' then 'withdrawal'
            else 'other'
        end as entry_kind,

        -- money
        cast('CNY' as varchar) as currency,
        coalesce(income_amount, 0) - abs(coalesce(expense_amount, 0)) as amount,
        balance,

        subject,
        counterparty_account,
        remark,
        occurred_at,
        bill_date,
        bill_file,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
