-- One row per line item of an order (source_order_id), carrying the load that wrote its order.
with source as (
    select * from {{ account_union('shopify', 'orders__line_items') }}
),

final as (
    select
        channel_id || ':' || cast(id as varchar) as order_line_id,
        channel_id,
        cast(order_id as varchar) as source_order_id,
        cast(id as varchar) as source_line_id,
        cast(variant_id as varchar) as variant_id,
        upper(trim(sku)) as source_sku,
        title as product_name,
        quantity,
        cast(price as decimal(18, 4)) as unit_price,
        cast(price * quantity as decimal(18, 4)) as line_amount,
        fulfillable_quantity,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
