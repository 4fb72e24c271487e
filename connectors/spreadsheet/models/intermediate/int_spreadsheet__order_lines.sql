-- Offline store receipt lines: paid and handed over at the till, so nothing is open or refunded.
with sales_lines as (
    select * from {{ ref('stg_spreadsheet__offline_sales') }}
),

receipts as (
    select * from {{ ref('int_spreadsheet__orders') }}
),

final as (
    select
        sales_lines.order_line_id,
        sales_lines.order_id,
        sales_lines.channel_id,
        sales_lines.source_sku,
        sales_lines.quantity,
        sales_lines.unit_price,
        sales_lines.line_amount,
        sales_lines.currency,
        receipts.ordered_at,
        0 as refunded_quantity,
        0 as open_quantity,
        sales_lines._loaded_at
    from sales_lines
    join receipts on receipts.order_id = sales_lines.order_id
)

select * from final
