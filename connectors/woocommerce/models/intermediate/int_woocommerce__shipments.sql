-- The waybills a WooCommerce store recorded as shipments (conformed shipments role): the shop knows
-- the carrier, the waybill and the ship date, nothing of the parcel's way; a tracker handed the
-- waybill (Kuaidi100, SF Express) supplies status, scans and delivery in fct_shipments.
with trackings as (
    select * from {{ ref('stg_woocommerce__shipment_trackings') }}
),

orders as (
    select channel_id, source_row_id, order_id, currency, _loaded_at from {{ ref('stg_woocommerce__orders') }}
),

final as (
    select
        trackings.channel_id || ':' || trackings.source_tracking_id as shipment_id,
        cast('woocommerce' as varchar) as provider,
        trackings.channel_id,
        orders.order_id,
        trackings.carrier,
        cast(null as varchar) as service,
        trackings.tracking_code,
        trackings.shipped_at,
        cast(null as timestamptz) as delivered_at,
        cast('unknown' as varchar) as status,
        trackings.shipped_at as last_event_at,
        cast(null as varchar) as last_event_message,
        cast(null as decimal(18, 4)) as cost_amount,
        cast(null as varchar) as currency,
        cast(0 as bigint) as event_count,
        trackings._loaded_at
    from trackings
    inner join orders
        on orders.channel_id = trackings.channel_id
        and orders.source_row_id = trackings.source_order_row_id
        and orders._loaded_at = trackings._loaded_at
)

select * from final
