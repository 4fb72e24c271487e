-- One row per Shopify order per shop. Money as Shopify sends it: total_line_items_price is the gross
-- of the lines, total_price = lines + shipping + tax - discounts. payment_gateways: Shopify's
-- payment_gateway_names, comma-separated (shopify_payments, manual, gift_card, bogus for test orders).
with source as (
    select * from {{ account_union('shopify', 'orders') }}
),

final as (
    select
        -- ids
        channel_id || ':' || cast(id as varchar) as order_id,
        channel_id,
        cast(id as varchar) as source_order_id,
        name as order_number,
        cast(customer__id as varchar) as source_customer_id,
        lower(trim(email)) as email,
        {{ phone_digits('phone') }} as phone,

        -- money (in the shop's currency; presentment_*: in the currency the customer saw and paid)
        upper(currency) as currency,
        upper(coalesce(presentment_currency, currency)) as presentment_currency,
        cast(coalesce(total_price_set__presentment_money__amount, total_price) as decimal(18, 4))
            as presentment_total_amount,
        cast(total_line_items_price as decimal(18, 4)) as subtotal_amount,
        cast(total_tax as decimal(18, 4)) as tax_amount,
        cast(total_discounts as decimal(18, 4)) as discount_amount,
        cast(total_price as decimal(18, 4)) as total_amount,

        -- status
        coalesce(test, false) as is_test,
        payment_gateway_names as payment_gateways,
        financial_status,
        fulfillment_status,
        cancelled_at is not null as is_cancelled,

        -- times (UTC)
        created_at as ordered_at,
        updated_at,
        cancelled_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
