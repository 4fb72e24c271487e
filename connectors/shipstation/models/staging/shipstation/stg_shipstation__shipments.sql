-- One row per label created in ShipStation, voided ones too. The shop order it ships is the shop's
-- order id ShipStation's store integration keeps as orderKey, and the hub's shop account the merchant's
-- automation rule writes to Custom Field 1 (connector README); the cost is in the account's currency.
with source as (
    select * from {{ account_union('shipstation', 'shipments') }}
),

final as (
    select
        shipment_id as source_shipment_id,
        channel_id,
        order_id as source_order_id,
        nullif(trim(order_key), '') as shop_order_id,
        order_number,
        nullif(trim(advanced_options__custom_field1), '') as shop_account,
        advanced_options__store_id as store_id,
        carrier_code,
        service_code,
        tracking_number as tracking_code,
        shipment_cost as cost_amount,
        upper(currency) as currency,
        coalesce(voided, false) as is_voided,
        void_date as voided_at,
        coalesce(is_return_label, false) as is_return,
        create_date as created_at,
        ship_date,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
