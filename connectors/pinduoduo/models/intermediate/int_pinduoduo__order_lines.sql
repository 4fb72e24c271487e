-- Pinduoduo order items in the conformed order_lines shape. An item reserves stock while its order is
-- paid (confirm_status 1) and waits to ship (order_status 1 待发货), less what after-sales refunded of it.
with order_items as (
    select * from {{ ref('stg_pinduoduo__order_items') }}
),

orders as (
    select * from {{ ref('stg_pinduoduo__orders') }}
),

refunds as (
    select * from {{ ref('stg_pinduoduo__refunds') }}
),

refunded_per_line as (
    select order_line_id, {{ quantity_sum('quantity') }} as refunded_quantity, max(_loaded_at) as _loaded_at
    from refunds
    where is_refunded
    group by order_line_id
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
            when orders.confirm_status = 1 and orders.order_status = 1
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
    left join refunded_per_line on refunded_per_line.order_line_id = order_items.order_line_id
)

select * from final
