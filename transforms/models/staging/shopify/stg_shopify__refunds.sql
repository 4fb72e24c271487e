-- Refunds as Shopify records them on the order; the money moved is in the refund's transactions.
with source as (
    select * from {{ account_union('shopify', 'orders__refunds') }}
),

final as (
    select
        channel_id || ':' || cast(id as varchar) as refund_id,
        channel_id,
        channel_id || ':' || cast(order_id as varchar) as order_id,
        created_at as refunded_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
