-- Grain: one business day of the channel (its own time zone, ops.channels) × sales channel × currency.
-- The measures are finance's (rpt_daily_sales.yml); test orders and cancelled orders are not sales
-- but are counted beside them, with any money a cancelled order kept.
with orders as (
    select * from {{ ref('fct_orders') }}
),

channels as (
    select * from {{ source('ops', 'channels') }}
),

orders_by_day as (
    select
        cast(orders.ordered_at at time zone channels.timezone as date) as sales_date,
        channels.timezone as day_zone,
        orders.*,
        not orders.is_test and not orders.is_cancelled as is_sale,
        -- cancelled after it was paid (not voided before): what the shop has not refunded is kept
        orders.is_cancelled and not orders.is_test
            and orders.source_financial_status in ('paid', 'partially_refunded', 'refunded') as is_cancelled_after_payment
    from orders
    join channels on channels.channel_id = orders.channel_id
),

final as (
    select
        sales_date,
        day_zone,
        channel_id,
        platform,
        currency,
        count(case when is_sale then 1 end) as order_count,
        {{ quantity_sum('case when is_sale then item_quantity else 0 end') }} as units,
        {{ money_sum('case when is_sale then subtotal_amount else 0 end') }} as gross_sales,
        {{ money_sum('case when is_sale then discount_amount else 0 end') }} as discounts,
        {{ money_sum('case when is_sale then refunded_amount else 0 end') }} as returns,
        {{ money_sum('case when is_sale then subtotal_amount - discount_amount - refunded_amount else 0 end') }}
            as net_sales,
        {{ money_sum('case when is_sale then shipping_amount else 0 end') }} as shipping,
        {{ money_sum('case when is_sale then tax_amount else 0 end') }} as taxes,
        {{ money_sum('case when is_sale then total_amount - refunded_amount else 0 end') }} as total_collected,
        count(case when is_cancelled and not is_test then 1 end) as cancelled_order_count,
        {{ money_sum('case when is_cancelled_after_payment then total_amount - refunded_amount else 0 end') }}
            as cancelled_kept_amount,
        count(case when is_test then 1 end) as test_order_count
    from orders_by_day
    group by sales_date, day_zone, channel_id, platform, currency
)

select * from final
