-- The latest answer SF gave about each waybill asked (conformed tracker_answers role), routes or not:
-- when the tracker last asked (_loaded_at), which fct_shipments keeps as tracked_at, so a waybill SF
-- shows no route for yet waits behind the others instead of being asked first on every run.
with waybills as (
    select * from {{ ref('stg_sf_express__waybills') }}
),

final as (
    select
        cast('sf_express' as varchar) as provider,
        channel_id,
        carrier,
        tracking_code,
        _loaded_at
    from waybills
)

select * from final
