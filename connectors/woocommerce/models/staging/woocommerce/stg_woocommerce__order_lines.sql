-- One row per line item; source_order_row_id joins to stg_woocommerce__orders.source_row_id.
-- subtotal is before the order's discounts, total after; both without tax.
with source as (
    select * from {{ account_union('woocommerce', 'orders__line_items') }}
),

final as (
    select
        channel_id || ':' || cast(id as varchar) as order_line_id,
        channel_id,
        _dlt_parent_id as source_order_row_id,
        cast(id as varchar) as source_line_id,
        cast(nullif(variation_id, 0) as varchar) as variant_id,
        upper(trim(sku)) as source_sku,
        name as product_name,
        quantity,
        subtotal as line_amount,
        total as discounted_line_amount,
        _dlt_root_load_id as _loaded_at
    from source
)

select * from final
