-- One row per entry of a Stripe balance: a charge's gross with Stripe's fee and the net, a refund
-- (negative), a payout taking the available balance to the bank (negative). Amounts converted from
-- minor units as in stg_stripe__charges; available_at is when the net can be paid out.
with source as (
    select * from {{ account_union('stripe', 'balance_transactions') }}
),

final as (
    select
        id as balance_transaction_id,
        channel_id,
        type as transaction_type,
        source as source_id,
        upper(currency) as currency,
        {{ from_minor_units('amount', 'currency') }} as amount,
        {{ from_minor_units('fee', 'currency') }} as fee_amount,
        {{ from_minor_units('net', 'currency') }} as net_amount,
        status,
        created as created_at,
        available_on as available_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
