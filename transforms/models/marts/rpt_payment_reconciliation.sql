{{ config(
    materialized='incremental',
    unique_key='order_id',
    pre_hook="{{ remove_orphan_rows() }}",
    post_hook="{{ remove_vanished('order_id', 'select order_id from ' ~ ref('fct_orders') ~ ' as orders join '
                  ~ source('ops', 'channels') ~ \" as channels on channels.channel_id = orders.channel_id
                  and channels.kind = 'channel'\") }}",
) }}

-- Grain: one web-channel order (with every payment that names it), plus one row per payment that
-- names no known order. Amounts in the order's currency; difference = captured - order total.
-- Status, first match wins: not_due (pending or cancelled, nothing captured), unpaid (due, nothing
-- captured), underpaid, overpaid (captured more than the total, e.g. a double charge; or anything
-- kept on a cancelled order), refund_mismatch (the shop and the provider refunded different amounts),
-- matched.
-- Incremental: an order is recomputed when a new load changed it, one of its payments or one of its
-- refunds; payments without an order are few and recomputed every time.
-- `not materialized`: these are read twice; a materialized CTE would copy each whole table first.
with orders as not materialized (
    select * from {{ ref('fct_orders') }}
),

payments as not materialized (
    select * from {{ ref('fct_payments') }}
),

refunds as not materialized (
    select * from {{ ref('fct_refunds') }}
),

channels as (
    select * from {{ source('ops', 'channels') }}
),

{% if is_incremental() %}
{% set window = load_window() %}
changed_orders as (
    select order_id from orders where {{ loaded_within(window, 'orders') }}
    union
    select order_id from payments where {{ loaded_within(window, 'payments') }}
    union
    select order_id from refunds where {{ loaded_within(window, 'refunds') }}
),

{% endif %}
web_orders as (
    select
        orders.order_id,
        orders.channel_id,
        orders.currency,
        orders.total_amount,
        orders.refunded_amount,
        orders.status,
        orders._loaded_at
    from orders
    join channels
        on channels.channel_id = orders.channel_id
        and channels.kind = 'channel'
    {% if is_incremental() %}
    where orders.order_id in (select order_id from changed_orders)
    {% endif %}
),

payments_per_order as (
    select
        payments.order_id,
        count(*) as payment_count,
        min(payments.payment_id) as first_payment_id,
        {{ money_sum('case when payments.is_captured then payments.amount_captured else 0 end') }} as captured_amount,
        max(payments._loaded_at) as _loaded_at
    from payments
    join web_orders on web_orders.order_id = payments.order_id
    group by payments.order_id
),

-- Listing the payments of an order is an ordered aggregate, ten times the cost of the sums: done
-- for the few orders paid more than once only.
payments_of_repaid_orders as (
    select payments.order_id, string_agg(payments.payment_id, ',' order by payments.payment_id) as payment_ids
    from payments
    join payments_per_order
        on payments_per_order.order_id = payments.order_id
        and payments_per_order.payment_count > 1
    group by payments.order_id
),

captured_per_order as (
    select
        payments_per_order.order_id,
        coalesce(payments_of_repaid_orders.payment_ids, payments_per_order.first_payment_id) as payment_ids,
        payments_per_order.captured_amount,
        payments_per_order._loaded_at
    from payments_per_order
    left join payments_of_repaid_orders on payments_of_repaid_orders.order_id = payments_per_order.order_id
),

refunded_per_order as (
    select
        refunds.order_id,
        {{ money_sum("case when refunds.status = 'succeeded' then refunds.amount else 0 end") }} as provider_refunded,
        max(refunds._loaded_at) as _loaded_at
    from refunds
    join web_orders on web_orders.order_id = refunds.order_id
    group by refunds.order_id
),

order_rows as (
    select
        web_orders.order_id,
        captured_per_order.payment_ids,
        web_orders.channel_id,
        web_orders.currency,
        web_orders.total_amount as order_total,
        web_orders.refunded_amount as order_refunded,
        coalesce(captured_per_order.captured_amount, 0) as captured_amount,
        coalesce(refunded_per_order.provider_refunded, 0) as provider_refunded,
        web_orders.status,
        greatest(web_orders._loaded_at, captured_per_order._loaded_at, refunded_per_order._loaded_at) as _loaded_at
    from web_orders
    left join captured_per_order on captured_per_order.order_id = web_orders.order_id
    left join refunded_per_order on refunded_per_order.order_id = web_orders.order_id
),

classified_orders as (
    select
        order_id,
        payment_ids,
        channel_id,
        currency,
        order_total,
        order_refunded,
        captured_amount,
        provider_refunded,
        cast(captured_amount - order_total as decimal(18, 4)) as difference,
        case
            when status in ('pending', 'cancelled') and captured_amount = 0 then 'not_due'
            when status = 'cancelled' then 'overpaid'
            when captured_amount = 0 then 'unpaid'
            when captured_amount < order_total then 'underpaid'
            when captured_amount > order_total then 'overpaid'
            when order_refunded <> provider_refunded then 'refund_mismatch'
            else 'matched'
        end as status,
        _loaded_at
    from order_rows
),

orphan_payments as (
    select
        cast(null as varchar) as order_id,
        payment_id as payment_ids,
        channel_id,
        currency,
        cast(null as decimal(18, 4)) as order_total,
        cast(null as decimal(18, 4)) as order_refunded,
        amount_captured as captured_amount,
        amount_refunded as provider_refunded,
        amount_captured as difference,
        'payment_without_order' as status,
        _loaded_at
    from payments
    where order_id is null
),

final as (
    select * from classified_orders
    union all
    select * from orphan_payments
)

select * from final
