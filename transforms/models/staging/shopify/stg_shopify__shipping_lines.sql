with source as (
    select * from {{ account_union('shopify', 'orders__shipping_lines') }}
),

final as (
    select
        channel_id,
        cast(order_id as varchar) as source_order_id,
        cast(price as decimal(18, 4)) as shipping_amount,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
