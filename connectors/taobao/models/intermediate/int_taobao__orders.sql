-- Taobao/Tmall trades in the conformed orders shape (transforms/macros/conformed.sql). A trade's status
-- says payment and shipping at once; TRADE_CLOSED is a trade closed by a full refund after payment,
-- TRADE_CLOSED_BY_TAOBAO one closed unpaid. Taobao shows no tax (prices include VAT): payment is
-- goods + postage - discount + the seller's adjustment. Refunds are their own stream, so a trade's
-- row carries the newest load of the trade and its refunds: a refund loaded later still reaches
-- fct_orders.
with trades as (
    select * from {{ ref('stg_taobao__trades') }}
),

sub_orders as (
    select * from {{ ref('stg_taobao__trade_orders') }}
),

refunds as (
    select * from {{ ref('stg_taobao__refunds') }}
),

lines_per_trade as (
    select channel_id, source_order_row_id, _loaded_at, count(*) as line_count,
           {{ quantity_sum('quantity') }} as item_quantity
    from sub_orders
    group by channel_id, source_order_row_id, _loaded_at
),

refunded_per_trade as (
    select order_id, {{ money_sum('refund_amount') }} as refunded_amount, max(_loaded_at) as _loaded_at
    from refunds
    where status = 'SUCCESS'
    group by order_id
),

final as (
    select
        trades.order_id,
        trades.channel_id,
        'taobao' as platform,
        trades.source_order_id,
        trades.source_order_id as order_number,
        cast(null as varchar) as email,
        cast(null as varchar) as phone,
        trades.ordered_at,
        trades.updated_at,
        trades.currency,
        trades.subtotal_amount,
        trades.shipping_amount,
        cast(0 as decimal(18, 4)) as tax_amount,
        trades.discount_amount,
        trades.total_amount,
        coalesce(refunded_per_trade.refunded_amount, 0) as refunded_amount,
        case
            when trades.status in ('WAIT_BUYER_PAY', 'TRADE_NO_CREATE_PAY', 'PAY_PENDING') then 'pending'
            when trades.status = 'TRADE_CLOSED_BY_TAOBAO' then 'voided'
            when trades.status = 'TRADE_CLOSED' then 'refunded'
            when refunded_per_trade.refunded_amount > 0 then 'partially_refunded'
            else 'paid'
        end as source_financial_status,
        case
            when trades.status in ('WAIT_BUYER_CONFIRM_GOODS', 'TRADE_BUYER_SIGNED', 'TRADE_FINISHED') then 'fulfilled'
            when trades.status = 'SELLER_CONSIGNED_PART' then 'partial'
        end as source_fulfillment_status,
        trades.status = 'TRADE_CLOSED_BY_TAOBAO' as is_cancelled,
        coalesce(lines_per_trade.line_count, 0) as line_count,
        coalesce(lines_per_trade.item_quantity, 0) as item_quantity,
        false as is_test,
        'taobao' as payment_gateways,  -- paid into Alipay's escrow, settled by Taobao: not the merchant's Alipay bills
        trades.currency as presentment_currency,
        trades.total_amount as presentment_total_amount,
        coalesce(refunded_per_trade.refunded_amount, 0) as presentment_refunded_amount,
        greatest(trades._loaded_at, coalesce(refunded_per_trade._loaded_at, trades._loaded_at)) as _loaded_at
    from trades
    left join lines_per_trade
        on lines_per_trade.channel_id = trades.channel_id
        and lines_per_trade.source_order_row_id = trades.source_row_id
        and lines_per_trade._loaded_at = trades._loaded_at
    left join refunded_per_trade on refunded_per_trade.order_id = trades.order_id
)

select * from final
