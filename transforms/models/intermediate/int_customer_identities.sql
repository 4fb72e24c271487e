-- Every customer record of every source (the conformed customers models), keyed by the person it
-- belongs to: the email trimmed and lower-cased, or the phone where a source has no email. customer_id comes from the customer_key macro, as in
-- fct_orders, so it is stable across builds and the same in the facts and dim_customers.
with identities as (
    {{ union_conformed('customers') }}
),

keyed as (
    select
        {{ customer_key('email', 'phone') }} as customer_id,
        *
    from identities
),

final as (
    select * from keyed where customer_id is not null
)

select * from final
