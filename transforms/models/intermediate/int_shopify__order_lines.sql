-- Shopify order lines with their order's currency and date, what was refunded of them, and what is
-- still to ship. A line and its refunds carry the load of their order (the connector replaces them with it), and
-- the joins say so: a filter on _loaded_at then reaches all three scans.
with order_lines as (
    select * from {{ ref('stg_shopify__order_lines') }}
),

orders as (
    select * from {{ ref('stg_shopify__orders') }}
),

refund_lines as (
    select * from {{ ref('stg_shopify__refund_lines') }}
),

refunded_per_line as (
    select channel_id, order_line_id, _loaded_at, {{ quantity_sum('refunded_quantity') }} as refunded_quantity
    from refund_lines
    group by channel_id, order_line_id, _loaded_at
),

final as (
    select
        order_lines.order_line_id,
        orders.order_id,
        order_lines.channel_id,
        order_lines.source_sku,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.line_amount,
        orders.currency,
        orders.ordered_at,
        coalesce(refunded_per_line.refunded_quantity, 0) as refunded_quantity,
        case
            when orders.is_cancelled or orders.financial_status in ('voided', 'refunded') then 0
            else coalesce(order_lines.fulfillable_quantity, 0)
        end as open_quantity,
        orders._loaded_at
    from order_lines
    join orders
        on orders.channel_id = order_lines.channel_id
        and orders.source_order_id = order_lines.source_order_id
        and orders._loaded_at = order_lines._loaded_at
    left join refunded_per_line
        on refunded_per_line.channel_id = order_lines.channel_id
        and refunded_per_line.order_line_id = order_lines.order_line_id
        and refunded_per_line._loaded_at = order_lines._loaded_at
)

select * from final
