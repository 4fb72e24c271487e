{{ config(materialized='table') }}

-- Grain: one paid order of a channel whose parcels a logistics account ships (a channel at least one
-- shipment names), with its way from paid to shipped to delivered and what needs a look: an order
-- still unshipped, or shipped late, and a parcel stuck on the way. Times are measured against the
-- data's own clock (as_of_at: the newest order or tracking event loaded), so a report built on a
-- quiet day does not call every parcel stuck. Thresholds: vars fulfilment_ship_within_hours (48) and
-- fulfilment_stuck_after_days (5).
{% set ship_within = var('fulfilment_ship_within_hours', 48) %}
{% set stuck_after = var('fulfilment_stuck_after_days', 5) %}
with orders as (
    select * from {{ ref('fct_orders') }}
),

shipments as (
    select * from {{ ref('fct_shipments') }}
),

payments as (
    select * from {{ ref('fct_payments') }}
),

shipped_channels as (
    select distinct orders.channel_id
    from shipments
    inner join orders on orders.order_id = shipments.order_id
),

paid_orders as (
    select orders.*
    from orders
    inner join shipped_channels on shipped_channels.channel_id = orders.channel_id
    where orders.status in ('paid', 'fulfilled', 'partially_refunded', 'refunded')
        and not orders.is_cancelled
        and not orders.is_test
),

first_payments as (
    select order_id, min(created_at) as paid_at
    from payments
    where is_captured and order_id is not null
    group by order_id
),

parcels as (
    select
        order_id,
        count(*) as shipment_count,
        min(shipped_at) as shipped_at,
        -- delivered when every parcel is
        case when count(delivered_at) = count(*) then max(delivered_at) end as delivered_at,
        max(last_event_at) as last_event_at,
        sum(case when status = 'return_to_sender' then 1 else 0 end) as returned_count,
        sum(case when status in ('failure', 'error') then 1 else 0 end) as exception_count,
        sum(case when not is_final then 1 else 0 end) as open_count,
        min(case when not is_final then last_event_at end) as oldest_open_event_at
    from shipments
    -- a cancelled label (voided at ShipStation, refunded at EasyPost) sends no parcel: the order ships
    -- under another label or not at all
    where order_id is not null
        and status <> 'cancelled'
    group by order_id
),

clock as (
    select max(moment) as as_of_at
    from (
        select max(ordered_at) as moment from paid_orders
        union all
        select max(last_event_at) from shipments
    ) as moments
),

timed as (
    select
        paid_orders.order_id,
        paid_orders.channel_id,
        paid_orders.ordered_at,
        coalesce(first_payments.paid_at, paid_orders.ordered_at) as paid_at,
        parcels.shipped_at,
        parcels.delivered_at,
        coalesce(parcels.shipment_count, 0) as shipment_count,
        coalesce(parcels.returned_count, 0) as returned_count,
        coalesce(parcels.exception_count, 0) as exception_count,
        coalesce(parcels.open_count, 0) as open_count,
        parcels.oldest_open_event_at,
        parcels.last_event_at,
        clock.as_of_at
    from paid_orders
    cross join clock
    left join first_payments on first_payments.order_id = paid_orders.order_id
    left join parcels on parcels.order_id = paid_orders.order_id
),

final as (
    select
        order_id,
        channel_id,
        ordered_at,
        paid_at,
        shipped_at,
        delivered_at,
        shipment_count,
        cast(extract(epoch from (shipped_at - paid_at)) / 3600.0 as decimal(18, 2)) as hours_to_ship,
        cast(extract(epoch from (delivered_at - shipped_at)) / 3600.0 as decimal(18, 2)) as hours_to_deliver,
        case
            when shipment_count = 0 then 'unshipped'
            when returned_count > 0 then 'returned'
            when exception_count > 0 then 'exception'
            when delivered_at is not null then 'delivered'
            when oldest_open_event_at < as_of_at - interval '{{ stuck_after }} days' then 'stuck'
            else 'in_transit'
        end as fulfilment_status,
        coalesce(shipped_at, as_of_at) > paid_at + interval '{{ ship_within }} hours' as is_late,
        last_event_at,
        as_of_at
    from timed
)

select * from final
