-- One row per JD POP order per shop. JOS's money is CNY with no currency field: orderPayment is what
-- the buyer pays; goods (orderTotalPrice) less the seller's discount is orderSellerPrice. Prices
-- include VAT. Receiver fields are masked by JD and kept as sent.
with source as (
    select * from {{ account_union('jd', 'orders') }}
),

final as (
    select
        -- ids
        channel_id || ':' || order_id as order_id,
        channel_id,
        order_id as source_order_id,
        _dlt_id as source_row_id,
        pin as buyer_pin,
        consignee_info__fullname as receiver_name_masked,
        consignee_info__mobile as receiver_mobile_masked,

        -- money
        cast('CNY' as varchar) as currency,
        order_total_price as subtotal_amount,
        freight_price as shipping_amount,
        seller_discount as discount_amount,
        order_payment as total_amount,

        -- status
        order_state,
        pay_type,
        pay_type like '1-%' as is_cash_on_delivery,

        -- times (UTC)
        order_start_time as ordered_at,
        payment_confirm_time as paid_at,
        order_end_time as ended_at,
        modified as updated_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
