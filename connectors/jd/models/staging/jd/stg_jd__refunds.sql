-- One row per refund application (退款审核单) of a JD order. JOS names no SKU on it: a refund is the
-- order's. applyRefundSum is in fen (分). Status 1 approved by the seller, 3 by JD's finance, 5
-- approved by hand, 6/9 intercepted or closed and refunded; 0 awaits review, 2/4 refused, 11 withdrawn.
with source as (
    select * from {{ account_union('jd', 'refunds') }}
),

final as (
    select
        channel_id || ':' || cast(id as varchar) as refund_id,
        channel_id,
        channel_id || ':' || cast(order_id as varchar) as order_id,
        cast('CNY' as varchar) as currency,
        {{ from_minor_units('apply_refund_sum', "'CNY'") }} as refund_amount,
        status,
        status in (1, 3, 5, 6, 9) as is_refunded,
        apply_time as applied_at,
        check_time as refunded_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
