-- One row per line of WeChat Pay's daily trade bills: a payment (trade_state SUCCESS, its
-- transaction_id) or a refund of one (REFUND, its refund_id, the payment's transaction_id beside it).
-- out_trade_no (商户订单号) is the order number of the account's order_channel: order_id is channelhub's
-- order id there. The fee is WeChat Pay's, at fee_rate ('0.60%', read as 0.006); a refund line's fee is
-- negative (the share of the fee returned).
with source as (
    select * from {{ account_union('wechatpay', 'trades') }}
),

final as (
    select
        -- ids
        record_id,
        channel_id,
        transaction_id,
        nullif(refund_id, '0') as refund_id,
        nullif(out_refund_no, '0') as out_refund_no,
        out_trade_no,
        nullif(order_channel, '') || ':' || nullif(out_trade_no, '') as order_id,

        -- kind
        case trade_state when 'SUCCESS' then 'payment' when 'REFUND' then 'refund' else 'other' end as line_kind,
        trade_type,
        case when trade_state = 'SUCCESS' or refund_status = 'SUCCESS' then 'succeeded'
             when refund_status = 'PROCESSING' then 'pending'
             else 'failed' end as status,

        -- money (yuan)
        upper(currency) as currency,
        settlement_amount,
        refund_amount,
        fee_amount,
        cast(replace(fee_rate, '%', '') as decimal(9, 6)) / 100 as fee_rate,
        order_amount,

        cast(bill_date as date) as bill_date,
        traded_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
