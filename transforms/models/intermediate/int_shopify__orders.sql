{{ config(
    materialized='incremental',
    unique_key='order_id',
    post_hook="{{ remove_vanished('order_id', 'select order_id from ' ~ ref('stg_shopify__orders')) }}",
) }}

-- Shopify orders with what Shopify keeps on child records: shipping, refunds paid back, line counts.
-- A table built on dlt's loads, like the facts. An order's child records carry its load id (the connector
-- replaces them with the order: a delete-insert on order_id), so an incremental build reads the new loads' orders and children
-- by load id alone and sums the children per order (channel, Shopify order id).
{% set window = load_window() if is_incremental() else none %}
with orders as (
    select * from {{ ref('stg_shopify__orders') }}
    where {{ loaded_within(window) }}
),

shipping_lines as (
    select * from {{ ref('stg_shopify__shipping_lines') }}
    where {{ loaded_within(window) }}
),

refunds as (
    select * from {{ ref('stg_shopify__refunds') }}
    where {{ loaded_within(window) }}
),

refund_transactions as (
    select * from {{ ref('stg_shopify__refund_transactions') }}
    where {{ loaded_within(window) }}
),

order_lines as (
    select * from {{ ref('stg_shopify__order_lines') }}
    where {{ loaded_within(window) }}
),

shipping_per_order as (
    select channel_id, source_order_id, {{ money_sum('shipping_amount') }} as shipping_amount
    from shipping_lines
    group by channel_id, source_order_id
),

-- Refund transactions are in the currency the customer paid (the presentment currency).
refunded_per_order as (
    select refunds.order_id, {{ money_sum('refund_transactions.amount') }} as presentment_refunded_amount
    from refunds
    join refund_transactions
        on refund_transactions.channel_id = refunds.channel_id
        and refund_transactions.refund_id = refunds.refund_id
    where refund_transactions.is_successful_refund
    group by refunds.order_id
),

lines_per_order as (
    select channel_id, source_order_id, count(*) as line_count, {{ quantity_sum('quantity') }} as item_quantity
    from order_lines
    group by channel_id, source_order_id
),

final as (
    select
        orders.order_id,
        orders.channel_id,
        'shopify' as platform,
        orders.source_order_id,
        orders.order_number,
        orders.email,
        orders.phone,
        orders.ordered_at,
        orders.updated_at,
        orders.currency,
        orders.subtotal_amount,
        coalesce(shipping_per_order.shipping_amount, 0) as shipping_amount,
        orders.tax_amount,
        orders.discount_amount,
        orders.total_amount,
        case
            when orders.presentment_currency = orders.currency
                then coalesce(refunded_per_order.presentment_refunded_amount, 0)
            -- at the order's own rate (its total in both currencies), to the shop currency's minor unit
            else {{ round_money('coalesce(refunded_per_order.presentment_refunded_amount, 0) * orders.total_amount
                                 / nullif(orders.presentment_total_amount, 0)', 'orders.currency') }}
        end as refunded_amount,
        orders.is_test,
        orders.payment_gateways,
        orders.presentment_currency,
        orders.presentment_total_amount,
        coalesce(refunded_per_order.presentment_refunded_amount, 0) as presentment_refunded_amount,
        orders.financial_status as source_financial_status,
        orders.fulfillment_status as source_fulfillment_status,
        orders.is_cancelled or orders.financial_status = 'voided' as is_cancelled,
        coalesce(lines_per_order.line_count, 0) as line_count,
        coalesce(lines_per_order.item_quantity, 0) as item_quantity,
        orders._loaded_at
    from orders
    left join shipping_per_order
        on shipping_per_order.channel_id = orders.channel_id
        and shipping_per_order.source_order_id = orders.source_order_id
    left join refunded_per_order on refunded_per_order.order_id = orders.order_id
    left join lines_per_order
        on lines_per_order.channel_id = orders.channel_id
        and lines_per_order.source_order_id = orders.source_order_id
)

select * from final
