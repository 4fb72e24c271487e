-- WooCommerce orders in the conformed orders shape (transforms/macros/conformed.sql). WooCommerce's
-- order status says payment and shipping at once; it is read into the financial and fulfilment
-- statuses the marts normalise. Line items and refunds carry their order's load (dlt rewrites them
-- with it), and the joins say so, so a filter on _loaded_at reaches every scan.
with orders as (
    select * from {{ ref('stg_woocommerce__orders') }}
),

order_lines as (
    select * from {{ ref('stg_woocommerce__order_lines') }}
),

refunds as (
    select * from {{ ref('stg_woocommerce__refunds') }}
),

lines_per_order as (
    select
        channel_id, source_order_row_id, _loaded_at,
        count(*) as line_count,
        {{ quantity_sum('quantity') }} as item_quantity,
        {{ money_sum('line_amount') }} as subtotal_amount
    from order_lines
    group by channel_id, source_order_row_id, _loaded_at
),

refunded_per_order as (
    select channel_id, source_order_row_id, _loaded_at, {{ money_sum('amount') }} as refunded_amount
    from refunds
    group by channel_id, source_order_row_id, _loaded_at
),

final as (
    select
        orders.order_id,
        orders.channel_id,
        'woocommerce' as platform,
        orders.source_order_id,
        orders.order_number,
        orders.email,
        orders.phone,
        orders.ordered_at,
        orders.updated_at,
        orders.currency,
        coalesce(lines_per_order.subtotal_amount, 0) as subtotal_amount,
        orders.shipping_amount,
        orders.tax_amount,
        orders.discount_amount,
        orders.total_amount,
        coalesce(refunded_per_order.refunded_amount, 0) as refunded_amount,
        case
            when orders.status = 'refunded' then 'refunded'
            when orders.status in ('cancelled', 'failed') then 'voided'
            when orders.status in ('pending', 'on-hold', 'checkout-draft') then 'pending'
            when refunded_per_order.refunded_amount > 0 then 'partially_refunded'
            else 'paid'
        end as source_financial_status,
        case when orders.status = 'completed' then 'fulfilled' end as source_fulfillment_status,
        orders.status in ('cancelled', 'failed') as is_cancelled,
        coalesce(lines_per_order.line_count, 0) as line_count,
        coalesce(lines_per_order.item_quantity, 0) as item_quantity,
        false as is_test,
        orders.payment_method as payment_gateways,
        orders.currency as presentment_currency,
        orders.total_amount as presentment_total_amount,
        coalesce(refunded_per_order.refunded_amount, 0) as presentment_refunded_amount,
        orders._loaded_at
    from orders
    left join lines_per_order
        on lines_per_order.channel_id = orders.channel_id
        and lines_per_order.source_order_row_id = orders.source_row_id
        and lines_per_order._loaded_at = orders._loaded_at
    left join refunded_per_order
        on refunded_per_order.channel_id = orders.channel_id
        and refunded_per_order.source_order_row_id = orders.source_row_id
        and refunded_per_order._loaded_at = orders._loaded_at
)

select * from final
