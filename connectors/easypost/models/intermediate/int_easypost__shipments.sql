-- EasyPost's labels as shipments: the label (carrier, waybill, cost, when it shipped) with its
-- tracker's current status and the scans that say when it was delivered. A label whose tracker has not
-- loaded yet keeps the shipment's own status.
with shipments as (
    select * from {{ ref('stg_easypost__shipments') }}
),

trackers as (
    select * from {{ ref('stg_easypost__trackers') }}
),

events as (
    select * from {{ ref('stg_easypost__tracking_details') }}
),

events_per_tracker as (
    select
        channel_id,
        tracker_id,
        count(*) as event_count,
        min(case when status = 'delivered' then occurred_at end) as delivered_at,
        max(event_index) as last_index
    from events
    group by channel_id, tracker_id
),

last_events as (
    select events.channel_id, events.tracker_id, events.message
    from events
    inner join events_per_tracker
        on events_per_tracker.channel_id = events.channel_id
        and events_per_tracker.tracker_id = events.tracker_id
        and events_per_tracker.last_index = events.event_index
),

final as (
    select
        shipments.shipment_id,
        cast('easypost' as varchar) as provider,
        shipments.channel_id,
        shipments.order_id,
        shipments.carrier,
        shipments.service,
        shipments.tracking_code,
        shipments.shipped_at,
        events_per_tracker.delivered_at,
        coalesce(trackers.status, shipments.status) as status,
        coalesce(trackers.updated_at, shipments.updated_at) as last_event_at,
        last_events.message as last_event_message,
        shipments.cost_amount,
        shipments.currency,
        cast(coalesce(events_per_tracker.event_count, 0) as bigint) as event_count,
        shipments._loaded_at
    from shipments
    left join trackers
        on trackers.channel_id = shipments.channel_id
        and trackers.tracker_id = shipments.tracker_id
    left join events_per_tracker
        on events_per_tracker.channel_id = shipments.channel_id
        and events_per_tracker.tracker_id = shipments.tracker_id
    left join last_events
        on last_events.channel_id = shipments.channel_id
        and last_events.tracker_id = shipments.tracker_id
)

select * from final
