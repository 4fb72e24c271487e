-- Offline store sales lines from the drop folder's exports: one row per receipt line.
with source as (
    select * from {{ account_union('spreadsheet', 'offline_sales') }}
),

final as (
    select
        channel_id || ':' || row_key as order_line_id,
        channel_id,
        channel_id || ':' || receipt_no as order_id,
        receipt_no,
        sale_date,
        upper(trim(sku)) as source_sku,
        product_name,
        quantity,
        cast(unit_price as decimal(18, 4)) as unit_price,
        cast(amount as decimal(18, 4)) as line_amount,
        upper(currency) as currency,
        store,
        source_file,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
