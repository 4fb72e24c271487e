
  
  create view "wh"."staging"."stg_taobao__refunds__dbt_tmp" as (
    -- One row per refund (退款) the shop received, for one sub-order; CNY like every TOP amount.
with source as (
    select * from (
    select
        cast('tmall_cn' as varchar) as channel_id,
        cast("refund_id" as bigint) as "refund_id",
        cast("tid" as bigint) as "tid",
        cast("oid" as bigint) as "oid",
        cast("num" as bigint) as "num",
        cast("outer_id" as varchar) as "outer_id",
        case when "refund_fee" between -999999999 and 999999999
        then cast(cast("refund_fee" as decimal(18, 9)) as decimal(18, 4))
        else cast("refund_fee" as decimal(18, 4)) end as "refund_fee",
        cast("status" as varchar) as "status",
        cast("created" as timestamptz) as "created",
        cast("modified" as timestamptz) as "modified",
        cast("_dlt_load_id" as varchar) as "_dlt_load_id"
    from "raw_tmall_cn"."refunds"
    ) as taobao__refunds
),

final as (
    select
        channel_id || ':' || cast(refund_id as varchar) as refund_id,
        channel_id,
        channel_id || ':' || cast(tid as varchar) as order_id,
        channel_id || ':' || cast(oid as varchar) as order_line_id,
        upper(trim(outer_id)) as source_sku,
        num as quantity,
        cast('CNY' as varchar) as currency,
        refund_fee as refund_amount,
        status,
        created as refunded_at,
        modified as updated_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
  );
