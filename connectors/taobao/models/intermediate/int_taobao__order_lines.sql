-- Taobao sub-orders in the conformed order_lines shape. Each sub-order has its own status: it reserves
-- stock while paid and not yet shipped (WAIT_SELLER_SEND_GOODS), less what was refunded of it.
with sub_orders as (
    select * from {{ ref('stg_taobao__trade_orders') }}
),

trades as (
    select * from {{ ref('stg_taobao__trades') }}
),

refunds as (
    select * from {{ ref('stg_taobao__refunds') }}
),

refunded_per_line as (
    select order_line_id, {{ quantity_sum('quantity') }} as refunded_quantity, max(_loaded_at) as _loaded_at
    from refunds
    where status = 'SUCCESS'
    group by order_line_id
),

final as (
    select
        sub_orders.order_line_id,
        trades.order_id,
        sub_orders.channel_id,
        sub_orders.source_sku,
        sub_orders.quantity,
        sub_orders.unit_price,
        sub_orders.line_amount,
        trades.currency,
        trades.ordered_at,
        coalesce(refunded_per_line.refunded_quantity, 0) as refunded_quantity,
        case
            when sub_orders.status = 'WAIT_SELLER_SEND_GOODS'
                then greatest(sub_orders.quantity - coalesce(refunded_per_line.refunded_quantity, 0), 0)
            else 0
        end as open_quantity,
        greatest(sub_orders._loaded_at, coalesce(refunded_per_line._loaded_at, sub_orders._loaded_at)) as _loaded_at
    from sub_orders
    join trades
        on trades.channel_id = sub_orders.channel_id
        and trades.source_row_id = sub_orders.source_order_row_id
        and trades._loaded_at = sub_orders._loaded_at
    left join refunded_per_line on refunded_per_line.order_line_id = sub_orders.order_line_id
)

select * from final
