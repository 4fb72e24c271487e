-- Stripe's payouts: each sends the balance of one currency that became available that day.
with payouts as (
    select * from {{ ref('stg_stripe__payouts') }}
),

final as (
    select
        payout_id,
        cast('stripe' as varchar) as provider,
        channel_id,
        currency,
        amount,
        status,
        created_at,
        arrival_at,
        _loaded_at
    from payouts
)

select * from final
