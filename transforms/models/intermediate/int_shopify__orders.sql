{{ config(
    materialized='incremental',
    unique_key='order_id',
    post_hook="{{ remove_vanished('order_id', 'select order_id from ' ~ ref('stg_shopify__orders')) }}",
) }}

-- Shopify orders with what Shopify keeps on child records: shipping, refunds paid back, line counts.
-- A table built on dlt's loads, like the facts: an incremental build sums the child records of the
-- orders in new loads only (children are reached through their order; they carry no load id).
-- `not materialized`: each use of `orders` reads only the new loads, where a materialized CTE (the
-- default for a CTE used several times) would hide that filter from the scans below it.
with orders as not materialized (
    select * from {{ ref('stg_shopify__orders') }}
    {% if is_incremental() %}
    where {{ new_loads('_loaded_at') }}
    {% endif %}
),

shipping_lines as (
    select * from {{ ref('stg_shopify__shipping_lines') }}
),

refunds as (
    select * from {{ ref('stg_shopify__refunds') }}
),

refund_transactions as (
    select * from {{ ref('stg_shopify__refund_transactions') }}
),

order_lines as (
    select * from {{ ref('stg_shopify__order_lines') }}
),

-- Children are summed per parent row (channel, dlt row id of the order). An incremental build keeps
-- the children of the new loads' orders only; a full build sums every child without first joining
-- the orders, whose hash tables (one per sum) would all be held at once.
{% set of_new_orders -%}
    {% if is_incremental() -%}
    join orders  -- one row per order
        on orders.channel_id = children.channel_id
        and orders.source_row_id = children.source_order_row_id
    {%- endif %}
{%- endset %}
shipping_per_order as (
    select children.channel_id, children.source_order_row_id, sum(children.shipping_amount) as shipping_amount
    from shipping_lines as children
    {{ of_new_orders }}
    group by children.channel_id, children.source_order_row_id
),

refunded_per_order as (
    select refunds.order_id, sum(refund_transactions.amount) as refunded_amount
    from refunds
    join refund_transactions
        on refund_transactions.channel_id = refunds.channel_id
        and refund_transactions.source_refund_row_id = refunds.source_row_id
    where refund_transactions.is_successful_refund
    {% if is_incremental() %}
        and refunds.order_id in (select order_id from orders)
    {% endif %}
    group by refunds.order_id
),

lines_per_order as (
    select children.channel_id, children.source_order_row_id, count(*) as line_count,
        sum(children.quantity) as item_quantity
    from order_lines as children
    {{ of_new_orders }}
    group by children.channel_id, children.source_order_row_id
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
        coalesce(refunded_per_order.refunded_amount, 0) as refunded_amount,
        orders.financial_status as source_financial_status,
        orders.fulfillment_status as source_fulfillment_status,
        orders.is_cancelled or orders.financial_status = 'voided' as is_cancelled,
        coalesce(lines_per_order.line_count, 0) as line_count,
        coalesce(lines_per_order.item_quantity, 0) as item_quantity,
        orders._loaded_at
    from orders
    left join shipping_per_order
        on shipping_per_order.channel_id = orders.channel_id
        and shipping_per_order.source_order_row_id = orders.source_row_id
    left join refunded_per_order on refunded_per_order.order_id = orders.order_id
    left join lines_per_order
        on lines_per_order.channel_id = orders.channel_id
        and lines_per_order.source_order_row_id = orders.source_row_id
)

select * from final
