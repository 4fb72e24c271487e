-- One row per refund (退款) the shop received, for one sub-order; CNY like every TOP amount.
with source as (
    select * from {{ account_union('taobao', 'refunds') }}
),

final as (
    select
        channel_id || ':' || cast(refund_id as varchar) as refund_id,
        channel_id,
        channel_id || ':' || cast(tid as varchar) as order_id,
        channel_id || ':' || cast(oid as varchar) as order_line_id,
        upper(trim(outer_id)) as source_sku,
        num as quantity,
        cast('CNY' as varchar) as currency,
        refund_fee as refund_amount,
        status,
        created as refunded_at,
        modified as updated_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
