-- Alipay's withdrawals to the bank (提现 rows of the account bill) as payouts. A withdrawal sweeps the
-- balance: every movement since the previous withdrawal (swept_from; NULL: since the first), which is
-- how int_alipay__payments and int_alipay__refunds name the payout that sent their money. The bill
-- writes a withdrawal as an expense; a payout's amount is what reached the bank. The bill does not say
-- when it arrived.
with entries as (
    select * from {{ ref('stg_alipay__account_entries') }}
),

withdrawals as (
    select * from entries where entry_kind = 'withdrawal'
),

final as (
    select
        coalesce(business_no, entry_no) as payout_id,
        cast('alipay' as varchar) as provider,
        channel_id,
        currency,
        -amount as amount,
        cast('paid' as varchar) as status,
        occurred_at as created_at,
        cast(null as {{ portable_type('timestamptz') }}) as arrival_at,
        lag(occurred_at) over (partition by channel_id order by occurred_at) as swept_from,
        _loaded_at
    from withdrawals
)

select * from final
