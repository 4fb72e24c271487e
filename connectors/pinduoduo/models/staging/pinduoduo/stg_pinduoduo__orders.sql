-- One row per Pinduoduo order (订单) per shop. PDD's money is CNY yuan with no currency field:
-- pay_amount (what the buyer paid) = goods_amount + postage - discount_amount (seller's and platform's
-- discounts) + order_change_amount (the seller's price change). Receivers stay as PDD sends them:
-- encrypted, beside their masked forms ("李**", "138****5678").
with source as (
    select * from {{ account_union('pinduoduo', 'orders') }}
),

final as (
    select
        -- ids
        channel_id || ':' || order_sn as order_id,
        channel_id,
        order_sn as source_order_id,
        _dlt_id as source_row_id,

        -- receiver (encrypted and masked by PDD)
        receiver_name as receiver_name_encrypted,
        receiver_name_mask,
        receiver_phone as receiver_phone_encrypted,
        receiver_phone_mask,
        receiver_address as receiver_address_encrypted,
        receiver_address_mask,
        province,
        city,
        town,

        -- money
        cast('CNY' as varchar) as currency,
        goods_amount as subtotal_amount,
        postage as shipping_amount,
        discount_amount,
        seller_discount as seller_discount_amount,
        platform_discount as platform_discount_amount,
        order_change_amount as adjustment_amount,
        pay_amount as total_amount,

        -- status
        order_status,
        confirm_status,
        refund_status,
        trade_type,
        pay_type,

        -- times (UTC)
        created_time as ordered_at,
        confirm_time as confirmed_at,
        pay_time as paid_at,
        shipping_time as shipped_at,
        receive_time as received_at,
        updated_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
