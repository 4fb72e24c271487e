-- Every provider's payments (the conformed payments models) as one relation: what fct_payments
-- builds from, and what its hooks compare the built table with.
with all_payments as (
    {{ union_conformed('payments') }}
)

select * from all_payments
