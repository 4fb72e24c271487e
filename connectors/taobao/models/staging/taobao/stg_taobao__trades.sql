
  
  create view "wh"."staging"."stg_taobao__trades__dbt_tmp" as (
    -- One row per Taobao trade (交易) per shop. TOP's money is CNY with no currency field:
-- payment (what the buyer paid) = total_fee (goods) + post_fee - discount_fee + adjust_fee.
with source as (
    select * from (
    select
        cast('tmall_cn' as varchar) as channel_id,
        cast("tid" as bigint) as "tid",
        cast("status" as varchar) as "status",
        cast("type" as varchar) as "type",
        cast("buyer_nick" as varchar) as "buyer_nick",
        cast("created" as timestamptz) as "created",
        cast("modified" as timestamptz) as "modified",
        cast("pay_time" as timestamptz) as "pay_time",
        cast("end_time" as timestamptz) as "end_time",
        cast("consign_time" as timestamptz) as "consign_time",
        case when "payment" between -999999999 and 999999999
        then cast(cast("payment" as decimal(18, 9)) as decimal(18, 4))
        else cast("payment" as decimal(18, 4)) end as "payment",
        case when "total_fee" between -999999999 and 999999999
        then cast(cast("total_fee" as decimal(18, 9)) as decimal(18, 4))
        else cast("total_fee" as decimal(18, 4)) end as "total_fee",
        case when "post_fee" between -999999999 and 999999999
        then cast(cast("post_fee" as decimal(18, 9)) as decimal(18, 4))
        else cast("post_fee" as decimal(18, 4)) end as "post_fee",
        case when "discount_fee" between -999999999 and 999999999
        then cast(cast("discount_fee" as decimal(18, 9)) as decimal(18, 4))
        else cast("discount_fee" as decimal(18, 4)) end as "discount_fee",
        case when "adjust_fee" between -999999999 and 999999999
        then cast(cast("adjust_fee" as decimal(18, 9)) as decimal(18, 4))
        else cast("adjust_fee" as decimal(18, 4)) end as "adjust_fee",
        cast("_dlt_id" as varchar) as "_dlt_id",
        cast("_dlt_load_id" as varchar) as "_dlt_load_id"
    from "raw_tmall_cn"."trades"
    ) as taobao__trades
),

final as (
    select
        -- ids
        channel_id || ':' || cast(tid as varchar) as order_id,
        channel_id,
        cast(tid as varchar) as source_order_id,
        _dlt_id as source_row_id,
        buyer_nick,

        -- money
        cast('CNY' as varchar) as currency,
        total_fee as subtotal_amount,
        post_fee as shipping_amount,
        discount_fee as discount_amount,
        adjust_fee as adjustment_amount,
        payment as total_amount,

        -- status
        status,
        type as trade_type,
        status in ('TRADE_CLOSED', 'TRADE_CLOSED_BY_TAOBAO') as is_closed,

        -- times (UTC)
        created as ordered_at,
        pay_time as paid_at,
        consign_time as shipped_at,
        end_time as ended_at,
        modified as updated_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
  );
