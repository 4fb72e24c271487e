{{ config(materialized='table') }}

-- Grain: one parcel of any logistics account (the conformed shipments models): its order, carrier,
-- waybill, label cost, when it shipped and was delivered, and its tracking status now. order_id is
-- the order the shipment names ('<shop account>:<order id>'); is_order_known says whether fct_orders
-- holds it (a shop not loaded, or a label bought outside the shops, leaves it unknown). A merchant
-- without a logistics account gets the table with no row.
--
-- Status comes from whoever follows the parcel: the provider's own tracker (EasyPost), or a tracker
-- that is handed the waybill (Kuaidi100, SF Express: tracking events without a shipment id, matched on
-- carrier and waybill, and its latest answer about the waybill, scans or none). tracked_by and
-- tracked_at say who and when: a tracker's scans first, else the provider's own, else a tracker that
-- answered without a scan yet (asked, not collected), so that channelhub/tracking.py, which reads them
-- to pick what the trackers ask about next, asks the never-asked first and then the least recently
-- asked, scanned or not.
with shipments as (
    {{ union_conformed('shipments') }}
),

events as (
    {{ union_conformed('tracking_events') }}
),

answers as (
    {{ union_conformed('tracker_answers') }}
),

orders as (
    select order_id, ordered_at from {{ ref('fct_orders') }}
),

tracker_events as (
    select * from events where shipment_id is null
),

waybill_summaries as (
    select
        provider,
        channel_id,
        carrier,
        tracking_code,
        count(*) as event_count,
        min(case when status = 'delivered' then occurred_at end) as delivered_at,
        max(event_index) as last_index
    from tracker_events
    group by provider, channel_id, carrier, tracking_code
),

answered_waybills as (
    select
        answers.provider,
        answers.channel_id,
        answers.carrier,
        answers.tracking_code,
        max(answers._loaded_at) as tracked_at
    from answers
    group by answers.provider, answers.channel_id, answers.carrier, answers.tracking_code
),

followed_waybills as (
    -- one tracker per waybill, should two accounts follow the same one: one with scans, then the latest answer
    select
        answered_waybills.*,
        waybill_summaries.event_count,
        waybill_summaries.delivered_at,
        waybill_summaries.last_index,
        row_number() over (
            partition by answered_waybills.carrier, answered_waybills.tracking_code
            order by waybill_summaries.event_count is null, answered_waybills.tracked_at desc,
                answered_waybills.provider, answered_waybills.channel_id
        ) as answer_rank
    from answered_waybills
    left join waybill_summaries
        on waybill_summaries.provider = answered_waybills.provider
        and waybill_summaries.channel_id = answered_waybills.channel_id
        and waybill_summaries.carrier = answered_waybills.carrier
        and waybill_summaries.tracking_code = answered_waybills.tracking_code
),

tracked as (
    select
        followed_waybills.provider as tracked_by,
        followed_waybills.carrier,
        followed_waybills.tracking_code,
        followed_waybills.event_count,
        followed_waybills.delivered_at,
        followed_waybills.tracked_at,
        last_events.status,
        last_events.occurred_at as last_event_at,
        last_events.message as last_event_message
    from followed_waybills
    left join tracker_events as last_events
        on last_events.provider = followed_waybills.provider
        and last_events.channel_id = followed_waybills.channel_id
        and last_events.carrier = followed_waybills.carrier
        and last_events.tracking_code = followed_waybills.tracking_code
        and last_events.event_index = followed_waybills.last_index
    where followed_waybills.answer_rank = 1
),

final as (
    select
        shipments.shipment_id,
        shipments.provider,
        shipments.channel_id,
        shipments.order_id,
        orders.order_id is not null as is_order_known,
        orders.ordered_at,
        shipments.carrier,
        shipments.service,
        shipments.tracking_code,
        shipments.shipped_at,
        coalesce(tracked.delivered_at, shipments.delivered_at) as delivered_at,
        coalesce(tracked.status, shipments.status) as status,
        coalesce(tracked.status, shipments.status) in ('delivered', 'return_to_sender', 'failure', 'cancelled')
            as is_final,
        coalesce(tracked.last_event_at, shipments.last_event_at) as last_event_at,
        coalesce(tracked.last_event_message, shipments.last_event_message) as last_event_message,
        shipments.cost_amount,
        shipments.currency,
        coalesce(tracked.event_count, shipments.event_count) as event_count,
        case
            when tracked.event_count > 0 then tracked.tracked_by
            when shipments.event_count > 0 then shipments.provider
            else tracked.tracked_by
        end as tracked_by,
        case
            when tracked.event_count > 0 then tracked.tracked_at
            when shipments.event_count > 0 then shipments._loaded_at
            else tracked.tracked_at
        end as tracked_at,
        case
            when tracked.tracked_at > shipments._loaded_at then tracked.tracked_at
            else shipments._loaded_at
        end as _loaded_at
    from shipments
    left join orders
        on orders.order_id = shipments.order_id
    left join tracked
        on tracked.carrier = shipments.carrier
        and tracked.tracking_code = shipments.tracking_code
)

select * from final
