-- The 销售出库单 form: one row per sales outbound document, its total in the form's currency.
with source as (
    select * from {{ account_union('jiandaoyun', 'sales_outbound') }}
),

final as (
    select
        channel_id || ':' || data_id as order_id,
        channel_id,
        data_id as source_order_id,
        number as order_number,
        customer_code as source_customer_id,
        warehouse as warehouse_id,
        upper(currency) as currency,
        total as total_amount,
        handler as handler_username,
        department,
        shipped_at,
        created_at,
        updated_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
