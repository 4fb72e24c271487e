-- One row per item of an order: one SKU and its quantity. PDD gives items no id of their own; an item
-- is its order and SKU, as after-sales name it. source_order_row_id joins to
-- stg_pinduoduo__orders.source_row_id; outer_id is the merchant SKU.
with source as (
    select * from {{ account_union('pinduoduo', 'orders__item_list') }}
),

final as (
    select
        channel_id || ':' || order_sn || ':' || cast(sku_id as varchar) as order_line_id,
        channel_id,
        channel_id || ':' || order_sn as order_id,
        _dlt_parent_id as source_order_row_id,
        cast(goods_id as varchar) as source_item_id,
        cast(sku_id as varchar) as source_sku_id,
        upper(trim(outer_id)) as source_sku,
        goods_name as product_name,
        goods_spec as variant_title,
        goods_count as quantity,
        goods_price as unit_price,
        goods_price * goods_count as line_amount,
        _dlt_root_load_id as _loaded_at
    from source
)

select * from final
