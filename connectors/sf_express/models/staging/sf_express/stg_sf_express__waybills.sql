-- One row per SF waybill SF showed routes for, as last answered: when it was asked and how many scans
-- the answer held.
with source as (
    select * from {{ account_union('sf_express', 'waybills') }}
),

final as (
    select
        channel_id,
        carrier,
        tracking_code,
        asked_at,
        route_count,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
