-- One row per tracker: a parcel's tracking as of the last load. status is EasyPost's (pre_transit,
-- in_transit, out_for_delivery, delivered, available_for_pickup, return_to_sender, failure,
-- cancelled, error, unknown); updated_at is when it last changed.
with source as (
    select * from {{ account_union('easypost', 'trackers') }}
),

final as (
    select
        id as tracker_id,
        channel_id,
        shipment_id,
        tracking_code,
        carrier,
        status,
        status_detail,
        signed_by,
        est_delivery_date as estimated_delivery_at,
        created_at,
        updated_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
