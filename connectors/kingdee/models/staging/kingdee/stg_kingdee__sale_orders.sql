-- One row per K3Cloud sales order (SAL_SaleOrder). FBillAllAmount is the total with tax (价税合计),
-- FBillAmount the same without tax; FCancelStatus B = voided (作废).
with source as (
    select * from {{ account_union('kingdee', 'sale_orders') }}
),

final as (
    select
        -- ids
        channel_id || ':' || cast(fid as varchar) as order_id,
        channel_id,
        cast(fid as varchar) as source_order_id,
        f_bill_no as order_number,
        f_cust_id_f_number as source_customer_id,

        -- money
        upper(f_settle_curr_id_f_code) as currency,
        f_bill_amount as subtotal_amount,
        f_bill_tax_amount as tax_amount,
        f_bill_all_amount as total_amount,

        -- status
        f_document_status as document_status,
        f_cancel_status = 'B' as is_cancelled,

        -- times (UTC) and the business date
        f_date as order_date,
        f_create_date as ordered_at,
        f_modify_date as updated_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
