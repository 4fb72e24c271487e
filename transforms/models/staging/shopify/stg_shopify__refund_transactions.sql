with source as (
    select * from {{ account_union('shopify', 'orders__refunds__transactions') }}
),

final as (
    select
        channel_id,
        channel_id || ':' || cast(refund_id as varchar) as refund_id,
        kind,
        status,
        upper(currency) as currency,
        cast(amount as decimal(18, 4)) as amount,
        created_at,
        kind = 'refund' and status = 'success' as is_successful_refund,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
