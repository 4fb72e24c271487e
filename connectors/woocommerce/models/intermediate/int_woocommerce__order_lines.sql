-- WooCommerce order lines in the conformed order_lines shape. WooCommerce ships whole orders, so a
-- line is open (reserves stock) while its order is paid but not completed ('processing', 'on-hold').
-- The order's refund summary does not say which lines were refunded; a fully refunded order refunds
-- all of them, a partial refund none that the marts can name.
with order_lines as (
    select * from {{ ref('stg_woocommerce__order_lines') }}
),

orders as (
    select * from {{ ref('stg_woocommerce__orders') }}
),

final as (
    select
        order_lines.order_line_id,
        orders.order_id,
        order_lines.channel_id,
        order_lines.source_sku,
        order_lines.quantity,
        cast(order_lines.line_amount / nullif(order_lines.quantity, 0) as decimal(18, 4)) as unit_price,
        order_lines.line_amount,
        orders.currency,
        orders.ordered_at,
        case when orders.status = 'refunded' then order_lines.quantity else 0 end as refunded_quantity,
        case when orders.status in ('processing', 'on-hold') then order_lines.quantity else 0 end as open_quantity,
        orders._loaded_at
    from order_lines
    join orders
        on orders.channel_id = order_lines.channel_id
        and orders.source_row_id = order_lines.source_order_row_id
        and orders._loaded_at = order_lines._loaded_at
)

select * from final
