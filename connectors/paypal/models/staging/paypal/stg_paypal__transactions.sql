-- One row per balance-affecting PayPal transaction. The event code's family says what it is (PayPal's
-- transaction event codes): T00xx a payment received, T1107 a refund, T04xx a withdrawal to the bank,
-- T01xx a fee, other T11xx/T12xx reversals, holds and chargebacks of a payment (a dispute). Amounts
-- are signed as PayPal signs them: the fee negative, a refund and a withdrawal negative.
with source as (
    select * from {{ account_union('paypal', 'transactions') }}
),

final as (
    select
        -- ids
        transaction_id,
        channel_id,
        paypal_reference_id as reference_transaction_id,
        -- the checkout names its shop in custom_field and the shop's order id in invoice_id
        nullif(custom_field, '') || ':' || nullif(invoice_id, '') as order_id,

        -- kind
        transaction_event_code as event_code,
        case
            when transaction_event_code = 'T1107' then 'refund'
            when transaction_event_code like 'T00%' then 'payment'
            when transaction_event_code like 'T04%' then 'payout'
            when transaction_event_code like 'T01%' then 'fee'
            when transaction_event_code like 'T11%' or transaction_event_code like 'T12%' then 'dispute'
            else 'other'
        end as transaction_kind,
        case transaction_status
            when 'S' then 'succeeded'
            when 'P' then 'pending'
            when 'D' then 'denied'
            when 'V' then 'reversed'
        end as status,

        -- money
        upper(transaction_amount__currency_code) as currency,
        transaction_amount__value as amount,
        coalesce(-fee_amount__value, 0) as fee_amount,

        payer_info__email_address as payer_email,
        transaction_initiation_date as created_at,
        transaction_updated_date as updated_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
