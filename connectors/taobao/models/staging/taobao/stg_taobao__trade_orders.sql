-- One row per sub-order (子订单) of a trade: one SKU and its quantity. source_order_row_id joins to
-- stg_taobao__trades.source_row_id; outer_sku_id is the merchant SKU.
with source as (
    select * from {{ account_union('taobao', 'trades__orders') }}
),

final as (
    select
        channel_id || ':' || cast(oid as varchar) as order_line_id,
        channel_id,
        _dlt_parent_id as source_order_row_id,
        cast(oid as varchar) as source_line_id,
        cast(num_iid as varchar) as source_item_id,
        sku_id as source_sku_id,
        upper(trim(outer_sku_id)) as source_sku,
        title as product_name,
        num as quantity,
        price as unit_price,
        total_fee as line_amount,
        payment as paid_amount,
        status,
        refund_status,
        _dlt_root_load_id as _loaded_at
    from source
)

select * from final
