-- Every scan Kuaidi100 reported as a tracking event of the hub's shipments role: no shipment id (a
-- tracker is handed waybills: fct_shipments matches the events on carrier and waybill), carrier the
-- hub's code, status the hub's (connectors/sdk/tracking.py STATUSES) from the scan's Kuaidi100 state,
-- which status_detail keeps. Oldest first (event_index 0; Kuaidi100's order breaks ties, then the scan's
-- id), every scan Kuaidi100 has shown (those a later answer no longer holds too), with the load of the
-- waybill's latest answer.
with scans as (
    select * from {{ ref('stg_kuaidi100__scans') }}
),

waybills as (
    select * from {{ ref('stg_kuaidi100__waybills') }}
),

ordered_scans as (
    select
        scans.*,
        row_number() over (
            partition by channel_id, carrier, tracking_code order by occurred_at, scan_index, scan_id
        ) - 1 as event_index
    from scans
),

statuses as (
    select
        ordered_scans.*,
        case
            when status_code in ('101', '102') then 'pre_transit'
            when status_code = '501' then 'available_for_pickup'
            when status_code in ('4', '6', '14') or status_code like '4__' or status_code like '6__'
                then 'return_to_sender'
            when status_code = '3' or status_code like '3__' then 'delivered'
            when status_code = '5' or status_code like '5__' then 'out_for_delivery'
            when status_code in ('2', '13') or status_code like '2__' then 'failure'
            when status_code in ('0', '1', '7', '10', '11', '12') or status_code like '1__'
                or status_code like '1___' then 'in_transit'
            else 'unknown'
        end as status
    from ordered_scans
),

final as (
    select
        statuses.channel_id || ':' || statuses.carrier || ':' || statuses.tracking_code || ':'
            || cast(statuses.event_index as varchar) as event_id,
        cast(null as varchar) as shipment_id,
        cast('kuaidi100' as varchar) as provider,
        statuses.channel_id,
        statuses.tracking_code,
        statuses.carrier,
        cast(statuses.event_index as bigint) as event_index,
        statuses.occurred_at,
        statuses.status,
        statuses.status_code as status_detail,
        statuses.message,
        coalesce(nullif(statuses.location, ''), statuses.area_name) as city,
        case when statuses.area_code is not null then upper(substr(statuses.area_code, 1, 2)) end as country,
        waybills._loaded_at
    from statuses
    inner join waybills
        on waybills.channel_id = statuses.channel_id
        and waybills.carrier = statuses.carrier
        and waybills.tracking_code = statuses.tracking_code
)

select * from final
