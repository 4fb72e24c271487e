-- One row per item of a JD order: one SKU and its count. JOS gives items no id of their own, so a line
-- is its order and SKU. source_order_row_id joins to stg_jd__orders.source_row_id; outerSkuId is the
-- merchant SKU.
with source as (
    select * from {{ account_union('jd', 'orders__item_info_list') }}
),

final as (
    select
        channel_id,
        _dlt_parent_id as source_order_row_id,
        sku_id as source_sku_id,
        ware_id as source_item_id,
        upper(trim(outer_sku_id)) as source_sku,
        sku_name as product_name,
        cast(item_total as integer) as quantity,
        jd_price as unit_price,
        jd_price * cast(item_total as integer) as line_amount,
        _dlt_root_load_id as _loaded_at
    from source
)

select * from final
