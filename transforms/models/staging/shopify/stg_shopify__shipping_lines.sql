with source as (
    select * from {{ account_union('shopify', 'orders__shipping_lines') }}
),

final as (
    select
        channel_id,
        _dlt_parent_id as source_order_row_id,
        cast(price as decimal(18, 4)) as shipping_amount,
        _dlt_root_load_id as _loaded_at
    from source
)

select * from final
