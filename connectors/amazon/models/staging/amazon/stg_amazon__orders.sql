-- One row per Amazon order per seller account. OrderTotal (what the buyer pays, in the marketplace's
-- currency) is absent while an order is Pending: its items carry the amounts (stg_amazon__order_items).
with source as (
    select * from {{ account_union('amazon', 'orders') }}
),

final as (
    select
        -- ids
        channel_id || ':' || amazon_order_id as order_id,
        channel_id,
        amazon_order_id as source_order_id,
        seller_order_id,
        marketplace_id,

        -- money
        order_total__currency_code as currency,
        order_total__amount as total_amount,

        -- status
        order_status,
        fulfillment_channel,
        is_business_order,
        ship_service_level,
        shipping_address__country_code as ship_country,

        -- times (UTC)
        purchase_date as ordered_at,
        last_update_date as updated_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
