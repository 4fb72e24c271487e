-- One row per scan the carrier reported on a tracker (its tracking_details, oldest first: event_index
-- is the position in that list).
with source as (
    select * from {{ account_union('easypost', 'trackers__tracking_details') }}
),

final as (
    select
        tracker_id,
        channel_id,
        _dlt_list_idx as event_index,
        status,
        status_detail,
        message,
        datetime as occurred_at,
        tracking_location__city as city,
        upper(tracking_location__country) as country
    from source
)

select * from final
