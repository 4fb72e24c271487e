-- Amazon order items in the conformed order_lines shape. ItemPrice is the amount of the quantity
-- ordered: the unit price is its share. A seller-fulfilled (MFN) item reserves the merchant's stock
-- until shipped while its order is Pending, Unshipped or PartiallyShipped; an Amazon-fulfilled (AFN)
-- one ships from Amazon's stock and reserves nothing of the merchant's. A line's refunded quantity is
-- what the order's refund events adjusted of its SKU.
with items as (
    select * from {{ ref('stg_amazon__order_items') }}
),

orders as (
    select * from {{ ref('stg_amazon__orders') }}
),

refunds as (
    select * from {{ ref('stg_amazon__refunds') }}
),

refund_items as (
    select * from {{ ref('stg_amazon__refund_items') }}
),

refunded_per_sku as (
    select refunds.order_id, refund_items.source_sku, {{ quantity_sum('refund_items.quantity') }} as refunded_quantity
    from refund_items
    join refunds
        on refunds.channel_id = refund_items.channel_id
        and refunds.source_row_id = refund_items.source_refund_row_id
    group by refunds.order_id, refund_items.source_sku
),

final as (
    select
        items.order_id || ':' || items.source_sku as order_line_id,
        items.order_id,
        items.channel_id,
        items.source_sku,
        items.quantity,
        cast(items.item_amount / nullif(items.quantity, 0) as decimal(18, 4)) as unit_price,
        items.item_amount as line_amount,
        coalesce(orders.currency, items.currency) as currency,
        orders.ordered_at,
        least(coalesce(refunded_per_sku.refunded_quantity, 0), items.quantity) as refunded_quantity,
        case
            when orders.fulfillment_channel = 'MFN'
                and orders.order_status in ('Pending', 'Unshipped', 'PartiallyShipped')
                then items.quantity - items.quantity_shipped
            else 0
        end as open_quantity,
        items._loaded_at
    from items
    join orders on orders.order_id = items.order_id
    left join refunded_per_sku
        on refunded_per_sku.order_id = items.order_id
        and refunded_per_sku.source_sku = items.source_sku
)

select * from final
