-- One row per after-sales case (售后单) of an order: refund is what was given back, in yuan. Only
-- confirmed cases (status Confirmed) count as refunded.
with source as (
    select * from {{ account_union('jushuitan', 'refunds') }}
),

final as (
    select
        channel_id || ':' || cast(as_id as varchar) as refund_id,
        channel_id,
        channel_id || ':' || cast(o_id as varchar) as order_id,
        cast(shop_id as varchar) as shop_id,
        type as after_sale_type,
        status,
        status = 'Confirmed' as is_refunded,
        cast('CNY' as varchar) as currency,
        refund as refund_amount,
        as_date as requested_at,
        modified as updated_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
