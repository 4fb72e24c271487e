-- One row per bill day and type (trade, signcustomer) asked of Alipay: status loaded (its file and row
-- count) or missing (Alipay had no bill for a day long past: that day's payments, or balance movements,
-- are not in the warehouse).
with source as (
    select * from {{ account_union('alipay', 'bills') }}
),

final as (
    select
        channel_id,
        bill_date,
        bill_type,
        status,
        rows as row_count,
        bill_file,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
