{{ config(materialized='table') }}

-- Grain: one carrier scan of one parcel (the conformed tracking_events models), oldest first per
-- shipment (event_index), with the order the parcel fulfils: what happened to a parcel, and when. A
-- tracker handed the waybill (Kuaidi100, SF Express) knows no shipment id: its scans find their
-- shipment by carrier and waybill.
with events as (
    {{ union_conformed('tracking_events') }}
),

shipments as (
    select shipment_id, order_id, carrier, tracking_code from {{ ref('fct_shipments') }}
),

final as (
    select
        events.event_id,
        coalesce(events.shipment_id, by_waybill.shipment_id) as shipment_id,
        coalesce(shipments.order_id, by_waybill.order_id) as order_id,
        events.provider,
        events.channel_id,
        events.tracking_code,
        events.carrier,
        events.event_index,
        events.occurred_at,
        events.status,
        events.status_detail,
        events.message,
        events.city,
        events.country,
        events._loaded_at
    from events
    left join shipments
        on shipments.shipment_id = events.shipment_id
    left join shipments as by_waybill
        on events.shipment_id is null
        and by_waybill.carrier = events.carrier
        and by_waybill.tracking_code = events.tracking_code
)

select * from final
