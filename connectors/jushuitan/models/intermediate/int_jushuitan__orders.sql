-- Jushuitan orders in the conformed orders shape (transforms/macros/conformed.sql). An OMS routes the
-- orders of channel shops: only the shops the account reads (its `shops` setting) arrive here, so a
-- shop the hub also reads directly is left out there, not counted twice. status says unpaid (WaitPay),
-- cancelled (Cancelled), sent (Sent) or paid and waiting (any other); refunds are confirmed after-sales
-- cases, and a refund in full leaves the order refunded, not cancelled. Jushuitan shows no tax (Chinese
-- channels' prices include VAT): pay_amount is the total, items + freight - free_amount. The shop took
-- the payment (payment_gateways 'jushuitan': routed, not paid through a provider the hub reads). An
-- order's row carries the newest load of the order and its refunds.
with orders as (
    select * from {{ ref('stg_jushuitan__orders') }}
),

order_items as (
    select * from {{ ref('stg_jushuitan__order_items') }}
),

refunds as (
    select * from {{ ref('stg_jushuitan__refunds') }}
),

items_per_order as (
    select channel_id, source_order_row_id, _loaded_at, count(*) as line_count,
           {{ money_sum('line_amount') }} as subtotal_amount,
           {{ quantity_sum('quantity') }} as item_quantity
    from order_items
    group by channel_id, source_order_row_id, _loaded_at
),

refunded_per_order as (
    select order_id, {{ money_sum('refund_amount') }} as refunded_amount, max(_loaded_at) as _loaded_at
    from refunds
    where is_refunded
    group by order_id
),

final as (
    select
        orders.order_id,
        orders.channel_id,
        'jushuitan' as platform,
        orders.source_order_id,
        orders.shop_order_number as order_number,
        cast(null as varchar) as email,
        cast(null as varchar) as phone,  -- Jushuitan sends the receiver's mobile masked only
        orders.ordered_at,
        orders.updated_at,
        orders.currency,
        coalesce(items_per_order.subtotal_amount, 0) as subtotal_amount,
        orders.shipping_amount,
        cast(0 as decimal(18, 4)) as tax_amount,
        orders.discount_amount,
        orders.total_amount,
        coalesce(refunded_per_order.refunded_amount, 0) as refunded_amount,
        case
            when orders.status = 'WaitPay' then 'pending'
            when orders.status = 'Cancelled' then 'voided'
            when refunded_per_order.refunded_amount >= orders.total_amount then 'refunded'
            when refunded_per_order.refunded_amount > 0 then 'partially_refunded'
            else 'paid'
        end as source_financial_status,
        case when orders.status = 'Sent' then 'fulfilled' end as source_fulfillment_status,
        orders.status = 'Cancelled' as is_cancelled,
        coalesce(items_per_order.line_count, 0) as line_count,
        coalesce(items_per_order.item_quantity, 0) as item_quantity,
        false as is_test,
        'jushuitan' as payment_gateways,
        orders.currency as presentment_currency,
        orders.total_amount as presentment_total_amount,
        coalesce(refunded_per_order.refunded_amount, 0) as presentment_refunded_amount,
        greatest(orders._loaded_at, coalesce(refunded_per_order._loaded_at, orders._loaded_at)) as _loaded_at
    from orders
    left join items_per_order
        on items_per_order.channel_id = orders.channel_id
        and items_per_order.source_order_row_id = orders.source_row_id
        and items_per_order._loaded_at = orders._loaded_at
    left join refunded_per_order on refunded_per_order.order_id = orders.order_id
)

select * from final
