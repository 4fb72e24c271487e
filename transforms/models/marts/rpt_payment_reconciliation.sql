{{ config(
    materialized='incremental',
    unique_key='order_id',
    pre_hook="{{ remove_orphan_rows() }}",
    post_hook="{{ remove_vanished('order_id', 'select order_id from ' ~ ref('fct_orders') ~ ' as orders join '
                  ~ source('ops', 'channels') ~ \" as channels on channels.channel_id = orders.channel_id
                  and channels.kind = 'channel'\") }}",
) }}

-- Grain: one web-channel order (with every payment that names it), plus one row per captured
-- payment that names no known order. The statuses and the rules producing them, first match wins,
-- are in rpt_payment_reconciliation.yml. Money is compared in the currency the payments are in: the
-- order's own, or its presentment currency (Shopify Markets) when the customer paid in that.
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
        orders.presentment_currency,
        orders.presentment_total_amount,
        orders.presentment_refunded_amount,
        orders.payment_gateways,
        orders.status,
        orders.is_cancelled,
        orders.is_test,
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
        min(case when payments.is_captured then payments.currency end) as payment_currency,
        min(case when payments.is_captured then payments.currency end)
            <> max(case when payments.is_captured then payments.currency end) as is_paid_in_several_currencies,
        max(case when payments.is_disputed then 1 else 0 end) = 1 as is_disputed,
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
        payments_per_order.payment_currency,
        payments_per_order.is_paid_in_several_currencies,
        payments_per_order.is_disputed,
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
        web_orders.*,
        captured_per_order.payment_ids,
        coalesce(captured_per_order.payment_currency, web_orders.currency) as payment_currency,
        coalesce(captured_per_order.captured_amount, 0) as captured_amount,
        coalesce(refunded_per_order.provider_refunded, 0) as provider_refunded,
        coalesce(captured_per_order.is_paid_in_several_currencies, false) as is_paid_in_several_currencies,
        coalesce(captured_per_order.is_disputed, false) as is_disputed,
        {{ paid_through_provider('web_orders.payment_gateways') }} as is_paid_through_provider,
        greatest(web_orders._loaded_at, captured_per_order._loaded_at, refunded_per_order._loaded_at)
            as last_loaded_at
    from web_orders
    left join captured_per_order on captured_per_order.order_id = web_orders.order_id
    left join refunded_per_order on refunded_per_order.order_id = web_orders.order_id
),

-- What the order asks the provider for, in the currency the payments are in.
due_in_payment_currency as (
    select
        *,
        payment_currency not in (currency, presentment_currency) or is_paid_in_several_currencies
            as is_currency_mismatch,
        case when payment_currency = currency then total_amount else presentment_total_amount end as total_due,
        case when payment_currency = currency then refunded_amount else presentment_refunded_amount end
            as refunded_due
    from order_rows
),

-- (captured - provider refunds) - (total - shop refunds); a cancelled order is due nothing.
netted as (
    select
        *,
        (captured_amount - provider_refunded)
            - case when is_cancelled then 0 else total_due - refunded_due end as net_difference
    from due_in_payment_currency
),

classified_orders as (
    select
        order_id,
        payment_ids,
        channel_id,
        currency,
        payment_currency,
        total_amount as order_total,
        refunded_amount as order_refunded,
        captured_amount,
        provider_refunded,
        cast(case
            when is_currency_mismatch then null  -- amounts in two currencies: no net figure without a rate
            when payment_currency = currency then net_difference
            else {{ round_money('net_difference * total_amount / nullif(presentment_total_amount, 0)', 'currency') }}
        end as decimal(18, 4)) as difference,
        case
            when is_test then 'excluded'
            when captured_amount = 0 and (status = 'pending' or is_cancelled) then 'not_due'
            when is_currency_mismatch then 'currency_mismatch'
            when is_disputed then 'disputed'
            when captured_amount = 0 and not is_paid_through_provider then 'paid_outside_provider'
            when captured_amount = 0 then 'unpaid'
            when is_cancelled and net_difference = 0 then 'cancelled_and_refunded'
            when is_cancelled then 'overpaid'
            when captured_amount < total_due then 'underpaid'
            when captured_amount > total_due then 'overpaid'
            when net_difference <> 0 then 'refund_mismatch'
            else 'matched'
        end as status,
        last_loaded_at as _loaded_at
    from netted
),

orphan_payments as (
    select
        cast(null as varchar) as order_id,
        payment_id as payment_ids,
        channel_id,
        currency,
        currency as payment_currency,
        cast(null as decimal(18, 4)) as order_total,
        cast(null as decimal(18, 4)) as order_refunded,
        amount_captured as captured_amount,
        amount_refunded as provider_refunded,
        cast(amount_captured - amount_refunded as decimal(18, 4)) as difference,
        'payment_without_order' as status,
        _loaded_at
    from payments
    where order_id is null and is_captured
),

final as (
    select * from classified_orders
    union all
    select * from orphan_payments
)

select * from final
