-- One row per SF waybill asked, as last answered (the load that wrote it: _loaded_at, when it was last
-- asked), and how many scans that answer held (0: SF shows no route yet, or no more).
with source as (
    select * from {{ account_union('sf_express', 'waybills') }}
),

final as (
    select
        channel_id,
        carrier,
        tracking_code,
        route_count,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
