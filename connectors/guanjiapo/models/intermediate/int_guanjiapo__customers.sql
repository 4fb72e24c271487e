-- Guanjiapo's partners (a company or person name, a phone, no email): known to dim_customers by phone.
-- Partners include suppliers; those never on a sales document are people too, and harmless to identity.
with partners as (
    select * from {{ ref('stg_guanjiapo__partners') }}
),

final as (
    select channel_id, partner_code as source_customer_id, cast(null as varchar) as email, phone,
           cast(null as varchar) as first_name, cast(null as varchar) as last_name,
           cast(null as timestamptz) as created_at
    from partners
)

select * from final
