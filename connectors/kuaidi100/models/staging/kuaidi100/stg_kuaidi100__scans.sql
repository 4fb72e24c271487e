-- One row per carrier scan Kuaidi100 has shown of a waybill, kept when a later answer no longer holds it:
-- scan_id the scan within its waybill, scan_index its place in the latest answer holding it (oldest
-- first). status_code is the scan's Kuaidi100 state (with resultv2: a state, or a finer three- or
-- four-digit one of it).
with source as (
    select * from {{ account_union('kuaidi100', 'scans') }}
),

final as (
    select
        channel_id,
        carrier,
        tracking_code,
        scan_id,
        scan_index,
        occurred_at,
        context as message,
        status as state_name,
        status_code,
        area_code,
        area_name,
        location
    from source
)

select * from final
