-- One row per Stripe charge. Stripe amounts are integers in the currency's minor unit; zero-decimal
-- currencies such as JPY have none (https://docs.stripe.com/currencies#zero-decimal).
with source as (
    select * from sources.stripe__charges
),

with_minor_unit as (
    select
        *,
        case when upper(currency) in ('BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF',
                                      'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') then 1 else 0.01 end as minor_unit
    from source
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
        cast(amount * minor_unit as decimal(18, 4)) as amount,
        cast(amount_captured * minor_unit as decimal(18, 4)) as amount_captured,
        cast(amount_refunded * minor_unit as decimal(18, 4)) as amount_refunded,

        -- status
        status,
        coalesce(captured, false) and status = 'succeeded' as is_captured,

        created as created_at
    from with_minor_unit
)

select * from final
