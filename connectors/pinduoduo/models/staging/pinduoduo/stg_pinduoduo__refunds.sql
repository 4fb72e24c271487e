-- One row per after-sales case (售后单) of an order item. PDD sends refund_amount in whole fen (分):
-- exact yuan here, by CNY's ISO 4217 exponent.
with source as (
    select * from {{ account_union('pinduoduo', 'refunds') }}
),

final as (
    select
        channel_id || ':' || cast(id as varchar) as refund_id,
        channel_id,
        channel_id || ':' || order_sn as order_id,
        channel_id || ':' || order_sn || ':' || cast(sku_id as varchar) as order_line_id,
        upper(trim(outer_id)) as source_sku,
        goods_number as quantity,
        cast('CNY' as varchar) as currency,
        {{ from_minor_units('refund_amount', "'CNY'") }} as refund_amount,
        after_sales_status,
        after_sales_type,
        after_sales_status = 10 as is_refunded,  -- 10: 退款成功
        created_time as requested_at,
        updated_time as updated_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
