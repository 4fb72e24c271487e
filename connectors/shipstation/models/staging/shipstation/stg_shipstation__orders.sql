-- One row per order ShipStation imported from a store: its status there (awaiting_payment,
-- awaiting_shipment, shipped, on_hold, cancelled…) and the shop order it is (orderKey, Custom Field 1).
with source as (
    select * from {{ account_union('shipstation', 'orders') }}
),

final as (
    select
        order_id as source_order_id,
        channel_id,
        nullif(trim(order_key), '') as shop_order_id,
        order_number,
        nullif(trim(advanced_options__custom_field1), '') as shop_account,
        advanced_options__store_id as store_id,
        order_status,
        order_date as ordered_at,
        modify_date as updated_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
