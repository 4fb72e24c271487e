-- One row per line of a SAP B1 sales document; document_id joins stg_sap_b1__documents. A line copied
-- from another document names it: base_type (its object type), base_entry (its DocEntry), base_line.
with orders as (
    select 17 as object_type, * from {{ account_union('sap_b1', 'orders__document_lines') }}
),

delivery_notes as (
    select 15 as object_type, * from {{ account_union('sap_b1', 'delivery_notes__document_lines') }}
),

invoices as (
    select 13 as object_type, * from {{ account_union('sap_b1', 'invoices__document_lines') }}
),

credit_notes as (
    select 14 as object_type, * from {{ account_union('sap_b1', 'credit_notes__document_lines') }}
),

document_lines as (
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
        channel_id || ':' || cast(object_type as varchar) || ':' || cast(doc_entry as varchar) || ':'
            || cast(line_num as varchar) as document_line_id,
        channel_id || ':' || cast(object_type as varchar) || ':' || cast(doc_entry as varchar) as document_id,
        channel_id,
        object_type,
        doc_entry,
        line_num,
        upper(trim(item_code)) as source_sku,
        quantity,
        unit_price,
        line_total as line_amount,
        warehouse_code as warehouse_id,
        case when base_type >= 0 then base_type end as base_type,
        base_entry,
        base_line,
        _dlt_root_load_id as _loaded_at
    from document_lines
)

select * from final
