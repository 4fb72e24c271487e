-- One row per WooCommerce order per store. total includes shipping and tax, after discounts; times
-- are the UTC (_gmt) twins.
with source as (
    select * from {{ account_union('woocommerce', 'orders') }}
),

final as (
    select
        -- ids
        channel_id || ':' || cast(id as varchar) as order_id,
        channel_id,
        cast(id as varchar) as source_order_id,
        number as order_number,
        _dlt_id as source_row_id,
        cast(nullif(customer_id, 0) as varchar) as source_customer_id,  -- 0: a guest checkout
        billing__first_name as first_name,
        billing__last_name as last_name,
        lower(trim(billing__email)) as email,
        {{ phone_digits('billing__phone') }} as phone,

        -- money
        upper(currency) as currency,
        discount_total as discount_amount,
        shipping_total as shipping_amount,
        total_tax as tax_amount,
        total as total_amount,

        -- status
        status,
        payment_method,  -- the gateway's id: stripe, paypal, cod, bacs, cheque

        -- times (UTC)
        date_created_gmt as ordered_at,
        date_modified_gmt as updated_at,
        date_paid_gmt as paid_at,
        date_completed_gmt as completed_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
