-- One row per item of an order (oi_id): one SKU, its quantity and price. sku_id is the merchant SKU;
-- source_order_row_id joins to stg_jushuitan__orders.source_row_id.
with source as (
    select * from {{ account_union('jushuitan', 'orders__items') }}
),

final as (
    select
        channel_id || ':' || cast(oi_id as varchar) as order_line_id,
        channel_id,
        channel_id || ':' || cast(o_id as varchar) as order_id,
        _dlt_parent_id as source_order_row_id,
        upper(trim(sku_id)) as source_sku,
        i_id as style_code,
        name as product_name,
        properties_value as variant_title,
        qty as quantity,
        price as unit_price,
        amount as line_amount,
        _dlt_root_load_id as _loaded_at
    from source
)

select * from final
