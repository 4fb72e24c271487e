-- JD POP orders in the conformed orders shape (transforms/macros/conformed.sql). How a JD state maps
-- to the hub's (connectors/jd/README.md has the table): an order paid online is paid from
-- paymentConfirmTime; cash on delivery (payType 1-货到付款) stays pending until JD finishes it;
-- TRADE_CANCELED unpaid is a cancelled order, after payment it is a refund of the whole order (its
-- refund application carries the money). Refunds are their own stream (order-level, in fen), so an
-- order's row carries the newest load of the order and its refunds. JD shows no tax: prices include
-- VAT, and orderPayment is what the buyer pays.
with orders as (
    select * from {{ ref('stg_jd__orders') }}
),

items as (
    select * from {{ ref('stg_jd__order_items') }}
),

refunds as (
    select * from {{ ref('stg_jd__refunds') }}
),

items_per_order as (
    select channel_id, source_order_row_id, _loaded_at, count(*) as line_count,
           {{ quantity_sum('quantity') }} as item_quantity
    from items
    group by channel_id, source_order_row_id, _loaded_at
),

refunded_per_order as (
    select order_id, {{ money_sum('refund_amount') }} as refunded_amount, max(_loaded_at) as _loaded_at
    from refunds
    where is_refunded
    group by order_id
),

statuses as (
    select
        orders.*,
        coalesce(refunded_per_order.refunded_amount, 0) as refunded_amount,
        refunded_per_order._loaded_at as refunds_loaded_at,
        orders.paid_at is not null or (orders.is_cash_on_delivery and orders.order_state = 'FINISHED_L') as is_paid
    from orders
    left join refunded_per_order on refunded_per_order.order_id = orders.order_id
),

final as (
    select
        statuses.order_id,
        statuses.channel_id,
        'jd' as platform,
        statuses.source_order_id,
        statuses.source_order_id as order_number,
        cast(null as varchar) as email,
        cast(null as varchar) as phone,  -- JD masks the receiver's mobile: never a contact
        statuses.ordered_at,
        statuses.updated_at,
        statuses.currency,
        statuses.subtotal_amount,
        statuses.shipping_amount,
        cast(0 as decimal(18, 4)) as tax_amount,
        statuses.discount_amount,
        statuses.total_amount,
        statuses.refunded_amount,
        case
            when not statuses.is_paid and statuses.order_state = 'TRADE_CANCELED' then 'voided'
            when not statuses.is_paid then 'pending'
            when statuses.refunded_amount >= statuses.total_amount then 'refunded'
            when statuses.refunded_amount > 0 then 'partially_refunded'
            else 'paid'
        end as source_financial_status,
        case
            when statuses.order_state in ('WAIT_GOODS_RECEIVE_CONFIRM', 'FINISHED_L') then 'fulfilled'
        end as source_fulfillment_status,
        not statuses.is_paid and statuses.order_state = 'TRADE_CANCELED' as is_cancelled,
        coalesce(items_per_order.line_count, 0) as line_count,
        coalesce(items_per_order.item_quantity, 0) as item_quantity,
        false as is_test,
        case when statuses.is_cash_on_delivery then 'cash_on_delivery' else 'jd_pay' end as payment_gateways,
        statuses.currency as presentment_currency,
        statuses.total_amount as presentment_total_amount,
        statuses.refunded_amount as presentment_refunded_amount,
        greatest(statuses._loaded_at, coalesce(statuses.refunds_loaded_at, statuses._loaded_at)) as _loaded_at
    from statuses
    left join items_per_order
        on items_per_order.channel_id = statuses.channel_id
        and items_per_order.source_order_row_id = statuses.source_row_id
        and items_per_order._loaded_at = statuses._loaded_at
)

select * from final
