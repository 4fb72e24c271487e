-- PayPal's withdrawals to the bank (T04xx) as payouts. A withdrawal sweeps its currency's balance:
-- every transaction initiated since the previous withdrawal of that currency (swept_from; NULL: since
-- the first), which is how int_paypal__payments and int_paypal__refunds name the payout that sent
-- their money. PayPal signs a withdrawal negative; a payout's amount is what reached the bank.
with transactions as (
    select * from {{ ref('stg_paypal__transactions') }}
),

withdrawals as (
    select * from transactions where transaction_kind = 'payout'
),

final as (
    select
        transaction_id as payout_id,
        cast('paypal' as varchar) as provider,
        channel_id,
        currency,
        -amount as amount,
        case status
            when 'succeeded' then 'paid'
            when 'denied' then 'failed'
            when 'reversed' then 'canceled'
            else status
        end as status,
        created_at,
        updated_at as arrival_at,
        lag(created_at) over (partition by channel_id, currency order by created_at) as swept_from,
        _loaded_at
    from withdrawals
)

select * from final
