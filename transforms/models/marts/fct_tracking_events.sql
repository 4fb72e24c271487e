{{ config(materialized='table') }}

-- Grain: one carrier scan of one parcel (the conformed tracking_events models), oldest first per
-- shipment (event_index), with the order the parcel fulfils: what happened to a parcel, and when.
with events as (
    {{ union_conformed('tracking_events') }}
),

shipments as (
    select shipment_id, order_id from {{ ref('fct_shipments') }}
),

final as (
    select
        events.event_id,
        events.shipment_id,
        shipments.order_id,
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
)

select * from final
