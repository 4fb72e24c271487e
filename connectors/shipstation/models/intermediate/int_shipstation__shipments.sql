-- ShipStation's labels as shipments. ShipStation V1 tracks nothing: a live label is 'pre_transit' and
-- has no scan, a voided one 'cancelled'; the hub's trackers (Kuaidi100…) follow the waybills from
-- fct_shipments. The carrier is the hub's code (EasyPost's names). The order is '<shop account>:<shop
-- order id>' as fct_orders keys it, from the label, else from the order ShipStation imported.
with shipments as (
    select * from {{ ref('stg_shipstation__shipments') }}
),

orders as (
    select * from {{ ref('stg_shipstation__orders') }}
),

carriers as (
    select
        shipments.*,
        {{ carrier_code('carrier_code') }} as carrier
    from shipments
),

final as (
    select
        carriers.channel_id || ':' || cast(carriers.source_shipment_id as varchar) as shipment_id,
        cast('shipstation' as varchar) as provider,
        carriers.channel_id,
        coalesce(carriers.shop_account, orders.shop_account) || ':'
            || coalesce(carriers.shop_order_id, orders.shop_order_id) as order_id,
        carriers.carrier,
        carriers.service_code as service,
        carriers.tracking_code,
        carriers.created_at as shipped_at,
        cast(null as timestamptz) as delivered_at,
        cast(case when carriers.is_voided then 'cancelled' else 'pre_transit' end as varchar) as status,
        carriers.voided_at as last_event_at,
        cast(case when carriers.is_voided then 'Label voided' end as varchar) as last_event_message,
        carriers.cost_amount,
        carriers.currency,
        cast(0 as bigint) as event_count,
        carriers._loaded_at
    from carriers
    left join orders
        on orders.channel_id = carriers.channel_id
        and orders.source_order_id = carriers.source_order_id
)

select * from final
