-- Jushuitan order items in the conformed order_lines shape. An item reserves stock while its order is
-- paid and not yet sent (any status but WaitPay, Cancelled and Sent), less what confirmed after-sales
-- refunded of it; after-sales name an item by order and SKU (an order holds a SKU once).
with order_items as (
    select * from {{ ref('stg_jushuitan__order_items') }}
),

orders as (
    select * from {{ ref('stg_jushuitan__orders') }}
),

refunds as (
    select * from {{ ref('stg_jushuitan__refunds') }}
),

refund_items as (
    select * from {{ ref('stg_jushuitan__refund_items') }}
),

refunded_per_line as (
    select refunds.order_id, refund_items.source_sku, {{ quantity_sum('refund_items.quantity') }} as refunded_quantity,
           max(refund_items._loaded_at) as _loaded_at
    from refund_items
    join refunds on refunds.refund_id = refund_items.refund_id
    where refunds.is_refunded
    group by refunds.order_id, refund_items.source_sku
),

final as (
    select
        order_items.order_line_id,
        orders.order_id,
        order_items.channel_id,
        order_items.source_sku,
        order_items.quantity,
        order_items.unit_price,
        order_items.line_amount,
        orders.currency,
        orders.ordered_at,
        coalesce(refunded_per_line.refunded_quantity, 0) as refunded_quantity,
        case
            when orders.status not in ('WaitPay', 'Cancelled', 'Sent')
                then greatest(order_items.quantity - coalesce(refunded_per_line.refunded_quantity, 0), 0)
            else 0
        end as open_quantity,
        greatest(order_items._loaded_at, coalesce(refunded_per_line._loaded_at, order_items._loaded_at))
            as _loaded_at
    from order_items
    join orders
        on orders.channel_id = order_items.channel_id
        and orders.source_row_id = order_items.source_order_row_id
        and orders._loaded_at = order_items._loaded_at
    left join refunded_per_line
        on refunded_per_line.order_id = orders.order_id
        and refunded_per_line.source_sku = order_items.source_sku
)

select * from final
