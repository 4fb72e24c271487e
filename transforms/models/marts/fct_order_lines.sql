{{ config(
    materialized='incremental',
    unique_key='order_line_id',
    post_hook=[
        "{{ remove_vanished('order_line_id', ['select order_line_id from ' ~ ref('stg_shopify__order_lines'),
                                              'select order_line_id from ' ~ ref('stg_spreadsheet__offline_sales')]) }}",
        "{{ reresolve_products(ref('int_product_codes'), 'source_sku') }}",
    ],
) }}

-- Grain: one line of one order. open_quantity is what is sold but not yet shipped (it reserves stock).
-- An incremental build reads the lines of new loads: a Shopify line and its refunds carry the load
-- of their order (see int_shopify__orders), a store line its own.
{% set window = load_window() if is_incremental() else none %}
with shopify_lines as (
    select * from {{ ref('stg_shopify__order_lines') }}
    where {{ loaded_within(window) }}
),

shopify_orders as (
    select * from {{ ref('stg_shopify__orders') }}
    where {{ loaded_within(window) }}
),

refund_lines as (
    select * from {{ ref('stg_shopify__refund_lines') }}
    where {{ loaded_within(window) }}
),

store_lines as (
    select * from {{ ref('stg_spreadsheet__offline_sales') }}
    where {{ loaded_within(window) }}
),

store_receipts as (
    select * from {{ ref('int_spreadsheet__receipts') }}
),

product_per_code as (
    select * from {{ ref('int_product_codes') }}
),

refunded_per_line as (
    select order_line_id, {{ quantity_sum('refunded_quantity') }} as refunded_quantity
    from refund_lines
    group by order_line_id
),

shopify as (
    select
        shopify_lines.order_line_id,
        shopify_orders.order_id,
        shopify_lines.channel_id,
        shopify_lines.source_sku,
        shopify_lines.quantity,
        shopify_lines.unit_price,
        shopify_lines.line_amount,
        shopify_orders.currency,
        shopify_orders.ordered_at,
        coalesce(refunded_per_line.refunded_quantity, 0) as refunded_quantity,
        case
            when shopify_orders.is_cancelled or shopify_orders.financial_status in ('voided', 'refunded') then 0
            else coalesce(shopify_lines.fulfillable_quantity, 0)
        end as open_quantity,
        shopify_orders._loaded_at
    from shopify_lines
    join shopify_orders
        on shopify_orders.channel_id = shopify_lines.channel_id
        and shopify_orders.source_row_id = shopify_lines.source_order_row_id
    left join refunded_per_line
        on refunded_per_line.order_line_id = shopify_lines.order_line_id
),

store as (
    select
        store_lines.order_line_id,
        store_lines.order_id,
        store_lines.channel_id,
        store_lines.source_sku,
        store_lines.quantity,
        store_lines.unit_price,
        store_lines.line_amount,
        store_lines.currency,
        store_receipts.ordered_at,
        0 as refunded_quantity,
        0 as open_quantity,
        store_lines._loaded_at
    from store_lines
    join store_receipts on store_receipts.order_id = store_lines.order_id
),

all_lines as (
    select * from shopify
    union all
    select * from store
),

final as (
    select
        all_lines.order_line_id,
        all_lines.order_id,
        all_lines.channel_id,
        product_per_code.product_id,
        all_lines.source_sku,
        all_lines.quantity,
        all_lines.unit_price,
        all_lines.line_amount,
        all_lines.currency,
        all_lines.ordered_at,
        all_lines.refunded_quantity,
        all_lines.open_quantity,
        all_lines._loaded_at
    from all_lines
    left join product_per_code
        on product_per_code.channel_id = all_lines.channel_id
        and product_per_code.source_code = all_lines.source_sku
)

select * from final
