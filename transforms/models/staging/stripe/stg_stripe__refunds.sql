-- One row per Stripe refund, amounts converted from minor units as in stg_stripe__charges.
with source as (
    select * from {{ account_union('stripe', 'refunds') }}
),

final as (
    select
        id as refund_id,
        channel_id,
        charge as payment_id,
        upper(currency) as currency,
        {{ from_minor_units('amount', 'currency') }} as amount,
        status,
        reason,
        created as created_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
