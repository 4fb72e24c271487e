-- Grain: one UTC day × sales channel × currency. Cancelled orders are not sales; refunds are
-- counted on the day of the order they belong to.
with orders as (
    select * from {{ ref('fct_orders') }}
),

sales as (
    select
        {{ utc_date('ordered_at') }} as sales_date,
        channel_id,
        platform,
        currency,
        item_quantity,
        total_amount,
        refunded_amount
    from orders
    where not is_cancelled
),

final as (
    select
        sales_date,
        channel_id,
        platform,
        currency,
        count(*) as order_count,
        {{ quantity_sum('item_quantity') }} as units,
        {{ money_sum('total_amount') }} as gross_sales,
        {{ money_sum('refunded_amount') }} as refunded_amount,
        cast({{ money_sum('total_amount') }} - {{ money_sum('refunded_amount') }} as decimal(18, 4)) as net_sales
    from sales
    group by sales_date, channel_id, platform, currency
)

select * from final
