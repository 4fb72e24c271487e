-- SAP B1's sales orders as the orders of an offline/distributor channel, their state read from the
-- documents copied from them: an invoice (its lines based on the order) makes the order paid (billed on
-- account, settled outside any payment provider), deliveries of every line fulfil it, credit notes on its
-- invoices are its refunds. DocTotal holds tax and freight net of the header discount: what it differs
-- from lines, tax and discount by is freight.
with documents as (
    select * from {{ ref('stg_sap_b1__documents') }}
),

document_lines as (
    select * from {{ ref('stg_sap_b1__document_lines') }}
),

partners as (
    select * from {{ ref('stg_sap_b1__business_partners') }}
),

orders as (
    select * from documents where object_type = 17
),

line_totals as (
    select
        document_id as order_id,
        {{ money_sum('line_amount') }} as subtotal_amount,
        count(*) as line_count,
        {{ quantity_sum('quantity') }} as item_quantity
    from document_lines
    where object_type = 17
    group by document_id
),

invoice_orders as (
    select distinct invoice_lines.document_id as invoice_id,
                    invoice_lines.channel_id || ':17:' || cast(invoice_lines.base_entry as varchar) as order_id
    from document_lines as invoice_lines
    join documents as invoices on invoices.document_id = invoice_lines.document_id
    where invoice_lines.object_type = 13 and invoice_lines.base_type = 17 and not invoices.is_cancelled
),

invoiced as (
    select distinct order_id from invoice_orders
),

credit_note_invoices as (
    select distinct document_id as credit_note_id,
                    channel_id || ':13:' || cast(base_entry as varchar) as invoice_id
    from document_lines
    where object_type = 14 and base_type = 13
),

refunded as (
    select invoice_orders.order_id, {{ money_sum('credit_notes.total_amount') }} as refunded_amount
    from credit_note_invoices
    join documents as credit_notes
        on credit_notes.document_id = credit_note_invoices.credit_note_id and not credit_notes.is_cancelled
    join invoice_orders on invoice_orders.invoice_id = credit_note_invoices.invoice_id
    group by invoice_orders.order_id
),

delivered_lines as (
    select channel_id, base_entry, base_line, sum(quantity) as delivered_quantity
    from document_lines
    where object_type = 15 and base_type = 17
    group by channel_id, base_entry, base_line
),

delivered as (
    select order_lines.document_id as order_id, count(*) as lines_delivered
    from document_lines as order_lines
    join delivered_lines
        on delivered_lines.channel_id = order_lines.channel_id
        and delivered_lines.base_entry = order_lines.doc_entry
        and delivered_lines.base_line = order_lines.line_num
    where order_lines.object_type = 17 and delivered_lines.delivered_quantity >= order_lines.quantity
    group by order_lines.document_id
),

documented as (
    select
        orders.*,
        coalesce(line_totals.subtotal_amount, 0) as subtotal_amount,
        coalesce(line_totals.line_count, 0) as line_count,
        coalesce(line_totals.item_quantity, 0) as item_quantity,
        coalesce(refunded.refunded_amount, 0) as refunded_amount,
        invoiced.order_id is not null as is_invoiced,
        coalesce(delivered.lines_delivered, 0) as lines_delivered,
        partners.email,
        partners.phone
    from orders
    left join line_totals on line_totals.order_id = orders.document_id
    left join refunded on refunded.order_id = orders.document_id
    left join invoiced on invoiced.order_id = orders.document_id
    left join delivered on delivered.order_id = orders.document_id
    left join partners
        on partners.channel_id = orders.channel_id and partners.source_customer_id = orders.source_customer_id
),

final as (
    select
        document_id as order_id,
        channel_id,
        'sap_b1' as platform,
        source_document_id as source_order_id,
        document_number as order_number,
        email,
        phone,
        created_at as ordered_at,
        coalesce(updated_at, created_at) as updated_at,
        currency,
        subtotal_amount,
        cast(total_amount - tax_amount - subtotal_amount + discount_amount as decimal(18, 4)) as shipping_amount,
        tax_amount,
        discount_amount,
        total_amount,
        refunded_amount,
        case
            when is_cancelled then 'voided'
            when refunded_amount > 0 and refunded_amount >= total_amount then 'refunded'
            when refunded_amount > 0 then 'partially_refunded'
            when is_invoiced then 'paid'
            else 'pending'
        end as source_financial_status,
        case
            when line_count > 0 and lines_delivered = line_count then 'fulfilled'
            when lines_delivered > 0 then 'partial'
        end as source_fulfillment_status,
        is_cancelled,
        line_count,
        item_quantity,
        false as is_test,
        'offline' as payment_gateways,
        currency as presentment_currency,
        total_amount as presentment_total_amount,
        refunded_amount as presentment_refunded_amount,
        _loaded_at
    from documented
)

select * from final
