-- The couriers' waybills a store recorded on its orders (the Shipment Tracking extension), one row
-- each; source_order_row_id joins to stg_woocommerce__orders.source_row_id. shipped_at is the ship
-- date's midnight in the site's zone: the extension keeps a date, not a time.
with source as (
    select * from {{ account_union('woocommerce', 'orders__shipment_tracking') }}
),

final as (
    select
        channel_id,
        _dlt_parent_id as source_order_row_id,
        coalesce(nullif(tracking_id, ''), tracking_number) as source_tracking_id,
        upper(trim(tracking_number)) as tracking_code,
        trim(provider) as provider_name,
        {{ carrier_code('provider') }} as carrier,
        shipped_at,
        _dlt_root_load_id as _loaded_at
    from source
)

select * from final
