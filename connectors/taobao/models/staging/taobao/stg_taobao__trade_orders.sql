
  
  create view "wh"."staging"."stg_taobao__trade_orders__dbt_tmp" as (
    -- One row per sub-order (子订单) of a trade: one SKU and its quantity. source_order_row_id joins to
-- stg_taobao__trades.source_row_id; outer_sku_id is the merchant SKU.
with source as (
    select * from (
    select
        cast('tmall_cn' as varchar) as channel_id,
        cast("oid" as bigint) as "oid",
        cast("num_iid" as bigint) as "num_iid",
        cast("sku_id" as varchar) as "sku_id",
        cast("outer_sku_id" as varchar) as "outer_sku_id",
        cast("outer_iid" as varchar) as "outer_iid",
        cast("title" as varchar) as "title",
        cast("num" as bigint) as "num",
        case when "price" between -999999999 and 999999999
        then cast(cast("price" as decimal(18, 9)) as decimal(18, 4))
        else cast("price" as decimal(18, 4)) end as "price",
        case when "total_fee" between -999999999 and 999999999
        then cast(cast("total_fee" as decimal(18, 9)) as decimal(18, 4))
        else cast("total_fee" as decimal(18, 4)) end as "total_fee",
        case when "payment" between -999999999 and 999999999
        then cast(cast("payment" as decimal(18, 9)) as decimal(18, 4))
        else cast("payment" as decimal(18, 4)) end as "payment",
        cast("status" as varchar) as "status",
        cast("refund_status" as varchar) as "refund_status",
        cast("_dlt_parent_id" as varchar) as "_dlt_parent_id",
        cast("_dlt_root_load_id" as varchar) as "_dlt_root_load_id"
    from "raw_tmall_cn"."trades__orders"
    ) as taobao__trades__orders
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
  );
