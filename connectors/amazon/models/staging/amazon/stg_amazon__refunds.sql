-- One row per refund event (Finances API RefundEventList) of an Amazon order: what the buyer got back,
-- positive, in the marketplace's currency, when Amazon posted it. Amazon gives refund events no id: an
-- event is its order and posting time.
with source as (
    select * from {{ account_union('amazon', 'refunds') }}
),

final as (
    select
        channel_id || ':' || amazon_order_id || ':' || cast(posted_date as varchar) as refund_id,
        channel_id,
        channel_id || ':' || amazon_order_id as order_id,
        _dlt_id as source_row_id,
        currency,
        refund_amount,
        posted_date as refunded_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
