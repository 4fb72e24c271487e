-- One row per Stripe payout: the available balance of one currency sent to the merchant's bank.
with source as (
    select * from {{ account_union('stripe', 'payouts') }}
),

final as (
    select
        id as payout_id,
        channel_id,
        upper(currency) as currency,
        {{ from_minor_units('amount', 'currency') }} as amount,
        status,
        created as created_at,
        arrival_date as arrival_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
