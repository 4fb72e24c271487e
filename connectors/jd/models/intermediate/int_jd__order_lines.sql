-- JD order items in the conformed order_lines shape. An item reserves stock while its order waits to
-- leave the warehouse (WAIT_SELLER_STOCK_OUT: paid online, or cash on delivery not yet shipped).
-- JD's refund applications are order-level: a line's refunded quantity is all of it once the whole
-- order is cancelled after payment, otherwise 0.
with items as (
    select * from {{ ref('stg_jd__order_items') }}
),

orders as (
    select * from {{ ref('stg_jd__orders') }}
),

final as (
    select
        orders.order_id || ':' || items.source_sku_id as order_line_id,
        orders.order_id,
        items.channel_id,
        items.source_sku,
        items.quantity,
        items.unit_price,
        items.line_amount,
        orders.currency,
        orders.ordered_at,
        case when orders.order_state = 'TRADE_CANCELED' and orders.paid_at is not null then items.quantity else 0 end
            as refunded_quantity,
        case when orders.order_state = 'WAIT_SELLER_STOCK_OUT' then items.quantity else 0 end as open_quantity,
        items._loaded_at
    from items
    join orders
        on orders.channel_id = items.channel_id
        and orders.source_row_id = items.source_order_row_id
        and orders._loaded_at = items._loaded_at
)

select * from final
