-- Every scan of every EasyPost tracker as a tracking event of its shipment, with the load that last
-- wrote its tracker (a tracker's scans are rewritten whole when it is loaded again).
with events as (
    select * from {{ ref('stg_easypost__tracking_details') }}
),

trackers as (
    select * from {{ ref('stg_easypost__trackers') }}
),

final as (
    select
        trackers.shipment_id || ':' || cast(events.event_index as varchar) as event_id,
        trackers.shipment_id,
        cast('easypost' as varchar) as provider,
        events.channel_id,
        trackers.tracking_code,
        trackers.carrier,
        events.event_index,
        events.occurred_at,
        events.status,
        events.status_detail,
        events.message,
        events.city,
        events.country,
        trackers._loaded_at
    from events
    inner join trackers
        on trackers.channel_id = events.channel_id
        and trackers.tracker_id = events.tracker_id
)

select * from final
