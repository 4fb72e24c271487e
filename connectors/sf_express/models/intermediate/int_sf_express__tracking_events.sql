-- Every SF scan as a tracking event of a waybill: no shipment id (the marts find the parcel by carrier
-- and waybill), oldest first (event_index 0; SF's list order breaks ties, then the scan's id), every
-- route SF has shown of it (those a later answer no longer holds too), with the load of the waybill's
-- latest answer.
--
-- status maps SF's opCode onto the hub's statuses. SF publishes no complete table (its documents refer
-- to its business staff); the codes below are the ones public integrations agree on (connector README).
-- Any other scan SF reports is the parcel moving through SF's network: in_transit.
with routes as (
    select * from {{ ref('stg_sf_express__routes') }}
),

waybills as (
    select * from {{ ref('stg_sf_express__waybills') }}
),

ordered_routes as (
    select
        routes.*,
        row_number() over (
            partition by channel_id, carrier, tracking_code order by occurred_at, route_index, scan_id
        ) - 1 as event_index
    from routes
),

final as (
    select
        ordered_routes.channel_id || ':' || ordered_routes.carrier || ':' || ordered_routes.tracking_code
            || ':' || cast(ordered_routes.event_index as varchar) as event_id,
        cast(null as varchar) as shipment_id,
        cast('sf_express' as varchar) as provider,
        ordered_routes.channel_id,
        ordered_routes.tracking_code,
        ordered_routes.carrier,
        cast(ordered_routes.event_index as bigint) as event_index,
        ordered_routes.occurred_at,
        case
            when ordered_routes.op_code in ('80', '8000') then 'delivered'
            when ordered_routes.op_code = '44' then 'out_for_delivery'
            when ordered_routes.op_code = '70' then 'failure'
            when ordered_routes.op_code = '99' then 'return_to_sender'
            else 'in_transit'
        end as status,
        ordered_routes.op_code as status_detail,
        ordered_routes.remark as message,
        ordered_routes.accept_address as city,
        cast(null as varchar) as country,
        waybills._loaded_at
    from ordered_routes
    inner join waybills
        on waybills.channel_id = ordered_routes.channel_id
        and waybills.carrier = ordered_routes.carrier
        and waybills.tracking_code = ordered_routes.tracking_code
)

select * from final
