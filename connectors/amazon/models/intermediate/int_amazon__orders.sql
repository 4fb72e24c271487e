-- Amazon orders in the conformed orders shape (transforms/macros/conformed.sql). How an Amazon status
-- maps to the hub's (connectors/amazon/README.md has the table): Pending and PendingAvailability are
-- not paid yet, Canceled is a cancelled order, every other status is paid (Amazon collects the
-- payment), Shipped is fulfilled and PartiallyShipped partly. The amounts are the items' (Amazon
-- gives them per item); the total is OrderTotal, or the items' sum while a Pending order has none.
-- Refunds are the Finances API's refund events: a paid order refunded in full is refunded, in part
-- partially refunded (Amazon keeps its status, Shipped or Unshipped).
with orders as (
    select * from {{ ref('stg_amazon__orders') }}
),

items as (
    select * from {{ ref('stg_amazon__order_items') }}
),

refunds as (
    select * from {{ ref('stg_amazon__refunds') }}
),

refunded_per_order as (
    select order_id, {{ money_sum('refund_amount') }} as refunded_amount, max(_loaded_at) as _loaded_at
    from refunds
    group by order_id
),

items_per_order as (
    select
        order_id,
        min(currency) as currency,
        count(*) as line_count,
        {{ quantity_sum('quantity') }} as item_quantity,
        {{ money_sum('item_amount') }} as subtotal_amount,
        {{ money_sum('shipping_amount') }} as shipping_amount,
        {{ money_sum('tax_amount') }} as tax_amount,
        {{ money_sum('discount_amount') }} as discount_amount,
        max(_loaded_at) as _loaded_at
    from items
    group by order_id
),

amounts as (
    select
        orders.*,
        coalesce(orders.currency, items_per_order.currency) as order_currency,
        coalesce(items_per_order.subtotal_amount, 0) as subtotal_amount,
        coalesce(items_per_order.shipping_amount, 0) as shipping_amount,
        coalesce(items_per_order.tax_amount, 0) as tax_amount,
        coalesce(items_per_order.discount_amount, 0) as discount_amount,
        coalesce(orders.total_amount, items_per_order.subtotal_amount + items_per_order.shipping_amount
                 + items_per_order.tax_amount - items_per_order.discount_amount) as order_total_amount,
        coalesce(items_per_order.line_count, 0) as line_count,
        coalesce(items_per_order.item_quantity, 0) as item_quantity,
        coalesce(refunded_per_order.refunded_amount, 0) as refunded_amount,
        greatest(coalesce(items_per_order._loaded_at, orders._loaded_at),
                 coalesce(refunded_per_order._loaded_at, orders._loaded_at)) as related_loaded_at
    from orders
    left join items_per_order on items_per_order.order_id = orders.order_id
    left join refunded_per_order on refunded_per_order.order_id = orders.order_id
),

final as (
    select
        order_id,
        channel_id,
        'amazon' as platform,
        source_order_id,
        source_order_id as order_number,
        cast(null as varchar) as email,  -- buyer PII needs a restricted data token
        cast(null as varchar) as phone,
        ordered_at,
        updated_at,
        order_currency as currency,
        subtotal_amount,
        shipping_amount,
        tax_amount,
        discount_amount,
        order_total_amount as total_amount,
        refunded_amount,
        case
            when order_status in ('Pending', 'PendingAvailability') then 'pending'
            when order_status = 'Canceled' then 'voided'
            when refunded_amount >= order_total_amount then 'refunded'
            when refunded_amount > 0 then 'partially_refunded'
            else 'paid'
        end as source_financial_status,
        case
            when order_status = 'Shipped' then 'fulfilled'
            when order_status = 'PartiallyShipped' then 'partial'
        end as source_fulfillment_status,
        order_status = 'Canceled' as is_cancelled,
        line_count,
        item_quantity,
        false as is_test,
        'amazon' as payment_gateways,  -- Amazon collects the buyer's payment and pays the seller out
        order_currency as presentment_currency,
        order_total_amount as presentment_total_amount,
        refunded_amount as presentment_refunded_amount,
        greatest(_loaded_at, related_loaded_at) as _loaded_at
    from amounts
)

select * from final
