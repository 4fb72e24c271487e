-- Offline store receipts as orders: one per receipt number, summed from its lines. A store sale is
-- paid and handed over at the till; its date is local to the store (the account's time zone).
with sales_lines as (
    select * from {{ ref('stg_spreadsheet__offline_sales') }}
),

channels as (
    select * from {{ source('ops', 'channels') }}
),

receipts as (
    select
        order_id,
        channel_id,
        receipt_no,
        min(sale_date) as sale_date,
        min(currency) as currency,
        {{ money_sum('line_amount') }} as subtotal_amount,
        count(*) as line_count,
        {{ quantity_sum('quantity') }} as item_quantity,
        max(_loaded_at) as _loaded_at
    from sales_lines
    group by order_id, channel_id, receipt_no
),

final as (
    select
        receipts.order_id,
        receipts.channel_id,
        'spreadsheet' as platform,
        receipts.receipt_no as source_order_id,
        receipts.receipt_no as order_number,
        cast(null as varchar) as email,
        cast(null as varchar) as phone,
        cast(receipts.sale_date as timestamp) at time zone channels.timezone as ordered_at,
        cast(receipts.sale_date as timestamp) at time zone channels.timezone as updated_at,
        receipts.currency,
        receipts.subtotal_amount,
        cast(0 as decimal(18, 4)) as shipping_amount,
        cast(0 as decimal(18, 4)) as tax_amount,
        cast(0 as decimal(18, 4)) as discount_amount,
        receipts.subtotal_amount as total_amount,
        cast(0 as decimal(18, 4)) as refunded_amount,
        'paid' as source_financial_status,
        'fulfilled' as source_fulfillment_status,
        false as is_cancelled,
        receipts.line_count,
        receipts.item_quantity,
        false as is_test,
        'store' as payment_gateways,  -- paid at the till
        receipts.currency as presentment_currency,
        receipts.subtotal_amount as presentment_total_amount,
        cast(0 as decimal(18, 4)) as presentment_refunded_amount,
        receipts._loaded_at
    from receipts
    join channels on channels.channel_id = receipts.channel_id
)

select * from final
