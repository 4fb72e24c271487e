-- Grain: one business day of the channel (its own time zone, ops.channels) × sales channel × currency.
-- Cancelled orders are not sales; refunds are counted on the day of the order they belong to.
with orders as (
    select * from {{ ref('fct_orders') }}
),

channels as (
    select * from {{ source('ops', 'channels') }}
),

sales as (
    select
        cast(orders.ordered_at at time zone channels.timezone as date) as sales_date,
        channels.timezone as day_zone,
        orders.channel_id,
        orders.platform,
        orders.currency,
        orders.item_quantity,
        orders.total_amount,
        orders.refunded_amount
    from orders
    join channels on channels.channel_id = orders.channel_id
    where not orders.is_cancelled
),

final as (
    select
        sales_date,
        day_zone,
        channel_id,
        platform,
        currency,
        count(*) as order_count,
        {{ quantity_sum('item_quantity') }} as units,
        {{ money_sum('total_amount') }} as gross_sales,
        {{ money_sum('refunded_amount') }} as refunded_amount,
        cast({{ money_sum('total_amount') }} - {{ money_sum('refunded_amount') }} as decimal(18, 4)) as net_sales
    from sales
    group by sales_date, day_zone, channel_id, platform, currency
)

select * from final
