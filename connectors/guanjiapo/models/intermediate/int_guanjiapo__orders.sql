-- Guanjiapo's sales documents as the orders of an offline/distributor channel: booked in yuan, handed
-- over and settled outside any web shop (paid, fulfilled). The header holds only the total: what it
-- differs from its lines by is freight (above) or a discount (below). The business date is local to
-- the account's zone.
with sales as (
    select * from {{ ref('stg_guanjiapo__sales') }}
),

sale_lines as (
    select * from {{ ref('stg_guanjiapo__sale_lines') }}
),

channels as (
    select * from {{ source('ops', 'channels') }}
),

line_totals as (
    select
        order_id,
        {{ money_sum('line_amount') }} as subtotal_amount,
        count(*) as line_count,
        {{ quantity_sum('quantity') }} as item_quantity
    from sale_lines
    group by order_id
),

documents as (
    select
        sales.*,
        coalesce(line_totals.subtotal_amount, 0) as subtotal_amount,
        coalesce(line_totals.line_count, 0) as line_count,
        coalesce(line_totals.item_quantity, 0) as item_quantity,
        sales.total_amount - coalesce(line_totals.subtotal_amount, 0) as adjustment,
        cast(sales.order_date as timestamp) at time zone channels.timezone as ordered_at
    from sales
    join channels on channels.channel_id = sales.channel_id
    left join line_totals on line_totals.order_id = sales.order_id
),

final as (
    select
        order_id,
        channel_id,
        'guanjiapo' as platform,
        source_order_id,
        order_number,
        cast(null as varchar) as email,
        cast(null as varchar) as phone,
        ordered_at,
        coalesce(updated_at, ordered_at) as updated_at,
        'CNY' as currency,
        subtotal_amount,
        cast(case when adjustment > 0 then adjustment else 0 end as decimal(18, 4)) as shipping_amount,
        cast(0 as decimal(18, 4)) as tax_amount,
        cast(case when adjustment < 0 then -adjustment else 0 end as decimal(18, 4)) as discount_amount,
        total_amount,
        cast(0 as decimal(18, 4)) as refunded_amount,
        'paid' as source_financial_status,
        'fulfilled' as source_fulfillment_status,
        false as is_cancelled,
        line_count,
        item_quantity,
        false as is_test,
        'offline' as payment_gateways,
        'CNY' as presentment_currency,
        total_amount as presentment_total_amount,
        cast(0 as decimal(18, 4)) as presentment_refunded_amount,
        _loaded_at
    from documents
)

select * from final
