-- Pinduoduo orders in the conformed orders shape (transforms/macros/conformed.sql). PDD splits an order's
-- state in three: confirm_status says paid (1 已成交), unpaid (0 未成交) or cancelled before payment
-- (2 已取消); order_status says shipped (2 已发货待签收, 3 已签收) or not (1 待发货; an order ships
-- whole, so never partial); refunds are after-sales cases of their own, and only those that succeeded
-- (after_sales_status 10) count. A refund in full leaves the order refunded, not cancelled. PDD shows no
-- tax (prices include VAT): pay_amount is the total. Every order is paid through PDD's checkout, which
-- settles with the shop: its gateway is 'pinduoduo', never the merchant's own Alipay or WeChat Pay account
-- (pay_type, in staging, names the buyer's wallet: WEIXIN, ALIPAY, QQ...), so the payment reconciliation
-- does not look for it there. An order's row carries the newest load of the order and its refunds: a
-- refund loaded later still reaches fct_orders.
with orders as (
    select * from {{ ref('stg_pinduoduo__orders') }}
),

order_items as (
    select * from {{ ref('stg_pinduoduo__order_items') }}
),

refunds as (
    select * from {{ ref('stg_pinduoduo__refunds') }}
),

items_per_order as (
    select channel_id, source_order_row_id, _loaded_at, count(*) as line_count,
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
        'pinduoduo' as platform,
        orders.source_order_id,
        orders.source_order_id as order_number,
        cast(null as varchar) as email,
        cast(null as varchar) as phone,  -- PDD sends the receiver's phone encrypted and masked only
        orders.ordered_at,
        orders.updated_at,
        orders.currency,
        orders.subtotal_amount,
        orders.shipping_amount,
        cast(0 as decimal(18, 4)) as tax_amount,
        orders.discount_amount,
        orders.total_amount,
        coalesce(refunded_per_order.refunded_amount, 0) as refunded_amount,
        case
            when orders.confirm_status = 0 then 'pending'
            when orders.confirm_status = 2 then 'voided'
            when refunded_per_order.refunded_amount >= orders.total_amount then 'refunded'
            when refunded_per_order.refunded_amount > 0 then 'partially_refunded'
            else 'paid'
        end as source_financial_status,
        case
            when orders.order_status in (2, 3) then 'fulfilled'
        end as source_fulfillment_status,
        orders.confirm_status = 2 as is_cancelled,
        coalesce(items_per_order.line_count, 0) as line_count,
        coalesce(items_per_order.item_quantity, 0) as item_quantity,
        false as is_test,
        'pinduoduo' as payment_gateways,  -- PDD collects, whatever wallet the buyer used (pay_type)
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
