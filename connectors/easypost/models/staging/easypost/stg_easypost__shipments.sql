-- One row per bought label (EasyPost lists purchased shipments only). reference names the shop order
-- the parcel fulfils as the warehouse does, '<shop account>:<order id>'; the label's cost is the rate
-- bought (selected_rate), in its currency.
with source as (
    select * from {{ account_union('easypost', 'shipments') }}
),

final as (
    select
        id as shipment_id,
        channel_id,
        nullif(trim(reference), '') as order_id,
        tracker_id,
        tracking_code,
        selected_rate__carrier as carrier,
        selected_rate__service as service,
        selected_rate__rate as cost_amount,
        upper(selected_rate__currency) as currency,
        status,
        refund_status,
        coalesce(is_return, false) as is_return,
        created_at as shipped_at,
        updated_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
