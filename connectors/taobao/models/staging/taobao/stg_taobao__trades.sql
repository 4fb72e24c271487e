-- One row per Taobao trade (交易) per shop. TOP's money is CNY with no currency field:
-- payment (what the buyer paid) = total_fee (goods) + post_fee - discount_fee + adjust_fee.
with source as (
    select * from {{ account_union('taobao', 'trades') }}
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
