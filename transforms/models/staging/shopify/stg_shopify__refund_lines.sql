with source as (
    select * from {{ account_union('shopify', 'orders__refunds__refund_line_items') }}
),

final as (
    select
        channel_id,
        channel_id || ':' || cast(line_item_id as varchar) as order_line_id,
        quantity as refunded_quantity,
        cast(subtotal as decimal(18, 4)) as refunded_amount,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
