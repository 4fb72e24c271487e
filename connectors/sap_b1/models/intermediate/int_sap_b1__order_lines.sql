-- SAP B1's sales order lines. Delivered quantities come from delivery lines based on the order line
-- (BaseType 17), refunded ones from credit note lines based on the invoice line that billed it; what is
-- neither delivered nor cancelled stays open. Quantities are whole units in the marts.
with document_lines as (
    select * from {{ ref('stg_sap_b1__document_lines') }}
),

documents as (
    select * from {{ ref('stg_sap_b1__documents') }}
),

order_lines as (
    select document_lines.*, orders.currency, orders.created_at as ordered_at, orders.is_cancelled
    from document_lines
    join documents as orders on orders.document_id = document_lines.document_id
    where document_lines.object_type = 17
),

delivered as (
    select channel_id || ':17:' || cast(base_entry as varchar) as order_id, base_line,
           sum(quantity) as delivered_quantity
    from document_lines
    where object_type = 15 and base_type = 17
    group by 1, 2
),

invoice_lines as (
    select * from document_lines where object_type = 13 and base_type = 17
),

refunded as (
    select invoice_lines.channel_id || ':17:' || cast(invoice_lines.base_entry as varchar) as order_id,
           invoice_lines.base_line, sum(credit_lines.quantity) as refunded_quantity
    from document_lines as credit_lines
    join invoice_lines
        on invoice_lines.channel_id = credit_lines.channel_id
        and invoice_lines.doc_entry = credit_lines.base_entry
        and invoice_lines.line_num = credit_lines.base_line
    where credit_lines.object_type = 14 and credit_lines.base_type = 13
    group by 1, 2
),

final as (
    select
        order_lines.document_line_id as order_line_id,
        order_lines.document_id as order_id,
        order_lines.channel_id,
        order_lines.source_sku,
        cast(order_lines.quantity as bigint) as quantity,
        order_lines.unit_price,
        order_lines.line_amount,
        order_lines.currency,
        order_lines.ordered_at,
        cast(coalesce(refunded.refunded_quantity, 0) as bigint) as refunded_quantity,
        case
            when order_lines.is_cancelled then 0
            else greatest(cast(order_lines.quantity - coalesce(delivered.delivered_quantity, 0) as bigint), 0)
        end as open_quantity,
        order_lines._loaded_at
    from order_lines
    left join delivered
        on delivered.order_id = order_lines.document_id and delivered.base_line = order_lines.line_num
    left join refunded
        on refunded.order_id = order_lines.document_id and refunded.base_line = order_lines.line_num
)

select * from final
