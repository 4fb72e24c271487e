-- The refunds an order lists (WooCommerce's summary: id, reason and a negative total), as positive
-- amounts in the order's currency.
with source as (
    select * from {{ account_union('woocommerce', 'orders__refunds') }}
),

final as (
    select
        channel_id || ':' || cast(id as varchar) as refund_id,
        channel_id,
        _dlt_parent_id as source_order_row_id,
        nullif(reason, '') as reason,
        -total as amount,
        _dlt_root_load_id as _loaded_at
    from source
)

select * from final
