-- Alipay's refunds (业务类型 退款) as refunds: positive amounts, the payment its trade_no. A bill lists a
-- refund once it is done, so each is succeeded and settled when it completed. No payout: see
-- int_alipay__payments.
with trades as (
    select * from {{ ref('stg_alipay__trades') }}
),

refunds as (
    select * from trades where entry_kind = 'refund'
),

final as (
    select
        entry_id as refund_id,
        cast('alipay' as varchar) as provider,
        channel_id,
        trade_no as payment_id,
        completed_at as created_at,
        currency,
        -received_amount as amount,
        cast('succeeded' as varchar) as status,
        completed_at as settled_at,
        cast(null as varchar) as payout_id,
        _loaded_at
    from refunds
)

select * from final
