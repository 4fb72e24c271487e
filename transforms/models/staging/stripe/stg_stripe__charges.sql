-- One row per Stripe charge. Stripe amounts are integers in the currency's minor unit;
-- from_minor_units (macros/money.sql, by the ISO 4217 exponent) makes them exact decimal amounts.
with source as (
    select * from {{ account_union('stripe', 'charges') }}
),

final as (
    select
        -- ids
        id as payment_id,
        channel_id,
        payment_intent as payment_intent_id,
        customer as source_customer_id,
        metadata__shop || ':' || metadata__order_id as order_id,

        -- money
        upper(currency) as currency,
        {{ from_minor_units('amount', 'currency') }} as amount,
        {{ from_minor_units('amount_captured', 'currency') }} as amount_captured,
        {{ from_minor_units('amount_refunded', 'currency') }} as amount_refunded,

        -- status
        status,
        coalesce(captured, false) and status = 'succeeded' as is_captured,
        coalesce(disputed, false) as is_disputed,
        failure_code,

        created as created_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
