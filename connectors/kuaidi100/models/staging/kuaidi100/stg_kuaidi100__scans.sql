-- One row per carrier scan Kuaidi100 reported for a waybill, event_index 0 the oldest. status_code is the
-- scan's Kuaidi100 state (with resultv2: a state, or a finer three- or four-digit one of it).
with source as (
    select * from {{ account_union('kuaidi100', 'waybills__scans') }}
),

final as (
    select
        channel_id,
        carrier,
        tracking_code,
        event_index,
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
