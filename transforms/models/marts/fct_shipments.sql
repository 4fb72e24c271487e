{{ config(materialized='table') }}

-- Grain: one parcel of any logistics account (the conformed shipments models): its order, carrier,
-- waybill, label cost, when it shipped and was delivered, and its tracking status now. order_id is
-- the order the shipment names ('<shop account>:<order id>'); is_order_known says whether fct_orders
-- holds it (a shop not loaded, or a label bought outside the shops, leaves it unknown). A merchant
-- without a logistics account gets the table with no row.
with shipments as (
    {{ union_conformed('shipments') }}
),

orders as (
    select order_id, ordered_at from {{ ref('fct_orders') }}
),

final as (
    select
        shipments.shipment_id,
        shipments.provider,
        shipments.channel_id,
        shipments.order_id,
        orders.order_id is not null as is_order_known,
        orders.ordered_at,
        shipments.carrier,
        shipments.service,
        shipments.tracking_code,
        shipments.shipped_at,
        shipments.delivered_at,
        shipments.status,
        shipments.status in ('delivered', 'return_to_sender', 'failure', 'cancelled') as is_final,
        shipments.last_event_at,
        shipments.last_event_message,
        shipments.cost_amount,
        shipments.currency,
        shipments.event_count,
        shipments._loaded_at
    from shipments
    left join orders
        on orders.order_id = shipments.order_id
)

select * from final
