-- SAP B1's sales documents, one row each: orders (object type 17), deliveries (15), A/R invoices (13)
-- and A/R credit notes (14). DocTotal includes tax and freight, net of the header discount (TotalDiscount);
-- Cancelled tYES is a cancelled document, bost_Close a closed one.
with orders as (
    select 17 as object_type, * from {{ account_union('sap_b1', 'orders') }}
),

delivery_notes as (
    select 15 as object_type, * from {{ account_union('sap_b1', 'delivery_notes') }}
),

invoices as (
    select 13 as object_type, * from {{ account_union('sap_b1', 'invoices') }}
),

credit_notes as (
    select 14 as object_type, * from {{ account_union('sap_b1', 'credit_notes') }}
),

documents as (
    select * from orders
    union all
    select * from delivery_notes
    union all
    select * from invoices
    union all
    select * from credit_notes
),

final as (
    select
        -- ids
        channel_id || ':' || cast(object_type as varchar) || ':' || cast(doc_entry as varchar) as document_id,
        channel_id,
        object_type,
        cast(doc_entry as varchar) as source_document_id,
        cast(doc_num as varchar) as document_number,
        card_code as source_customer_id,
        num_at_card as customer_reference,

        -- money
        upper(doc_currency) as currency,
        doc_total as total_amount,
        vat_sum as tax_amount,
        coalesce(total_discount, 0) as discount_amount,
        paid_to_date as paid_amount,

        -- status
        document_status = 'bost_Close' as is_closed,
        cancelled = 'tYES' as is_cancelled,

        -- the business date, and the times (UTC)
        doc_date as document_date,
        ordered_at as created_at,
        updated_at,
        _dlt_load_id as _loaded_at
    from documents
)

select * from final
