-- One row per Stripe refund, amounts converted from minor units as in stg_stripe__charges.
with source as (
    select * from sources.stripe__refunds
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
        id as refund_id,
        channel_id,
        charge as payment_id,
        upper(currency) as currency,
        cast(amount * minor_unit as decimal(18, 4)) as amount,
        status,
        reason,
        created as created_at
    from with_minor_unit
)

select * from final
