-- One row per row of Alipay's daily trade bills. 业务类型 (business_type) says what it is: 交易 a payment,
-- 退款 a refund of the trade named by the same 支付宝交易号 (trade_no). Amounts are signed as the bill signs
-- them (a refund negative); 服务费 (service_fee) is negative where Alipay took it and positive where a
-- refund gave part of it back, so fee_amount, the fee Alipay took, is its negation (negative on a
-- refund: the fee given back). Every amount is yuan.
with source as (
    select * from {{ account_union('alipay', 'trades') }}
),

final as (
    select
        -- ids
        entry_id,
        channel_id,
        trade_no,
        -- the checkout sends the shop's order number as 商户订单号; order_channel names the shop account
        nullif(order_channel, '') || ':' || nullif(out_trade_no, '') as order_id,
        nullif(refund_request_no, '') as refund_request_no,

        -- kind
        business_type,
        case business_type
            when '交易' then 'payment'
            when '退款' then 'refund'
            else 'other'
        end as entry_kind,

        -- money
        cast('CNY' as varchar) as currency,
        order_amount,
        received_amount,
        -coalesce(service_fee, 0) as fee_amount,
        -- the contracted rate (the account's fee_rate setting; the bill states none)
        fee_rate,

        subject,
        buyer_account,
        created_at,
        completed_at,
        bill_date,
        bill_file,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
