-- SAP B1's customers (one name, an email and a phone): known to dim_customers by email and phone.
with partners as (
    select * from {{ ref('stg_sap_b1__business_partners') }}
),

final as (
    select channel_id, source_customer_id, email, phone,
           cast(null as varchar) as first_name, cast(null as varchar) as last_name, updated_at as created_at
    from partners
)

select * from final
