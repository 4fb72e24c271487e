-- One row per order Jushuitan routes (o_id: Jushuitan's id; so_id: the shop's own order number), of
-- whichever shops the account reads. Money is CNY yuan with no currency field: pay_amount (what the
-- buyer owes) = items + freight - free_amount (discounts). Receivers are masked as Jushuitan sends them.
with source as (
    select * from {{ account_union('jushuitan', 'orders') }}
),

final as (
    select
        -- ids
        channel_id || ':' || cast(o_id as varchar) as order_id,
        channel_id,
        cast(o_id as varchar) as source_order_id,
        so_id as shop_order_number,
        cast(shop_id as varchar) as shop_id,
        shop_name,
        _dlt_id as source_row_id,

        -- receiver (masked)
        receiver_name,
        receiver_mobile,
        receiver_state,
        receiver_city,
        receiver_district,

        -- money
        cast('CNY' as varchar) as currency,
        freight as shipping_amount,
        free_amount as discount_amount,
        pay_amount as total_amount,
        paid_amount,

        -- status
        status,
        order_type,
        cast(wms_co_id as varchar) as warehouse_id,

        -- times (UTC)
        order_date as ordered_at,
        pay_date as paid_at,
        send_date as shipped_at,
        modified as updated_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
