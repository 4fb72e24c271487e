-- One row per item of an Amazon order: an order's SKU (the backfill report gives items no OrderItemId;
-- getOrderItems does). ItemPrice is the price of the whole quantity ordered, not of one unit; shipping,
-- its tax and promotion discounts are given per item too.
with source as (
    select * from {{ account_union('amazon', 'order_items') }}
),

final as (
    select
        channel_id,
        channel_id || ':' || amazon_order_id as order_id,
        order_item_id,
        upper(trim(seller_sku)) as source_sku,
        asin,
        title as product_name,
        quantity_ordered as quantity,
        coalesce(quantity_shipped, 0) as quantity_shipped,
        item_price__currency_code as currency,
        coalesce(item_price__amount, 0) as item_amount,
        coalesce(item_tax__amount, 0) + coalesce(shipping_tax__amount, 0) as tax_amount,
        coalesce(shipping_price__amount, 0) as shipping_amount,
        coalesce(promotion_discount__amount, 0) as discount_amount,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
