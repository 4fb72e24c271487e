-- SAP B1's customers (BusinessPartners of CardType cCustomer; the connector reads no others).
with source as (
    select * from {{ account_union('sap_b1', 'business_partners') }}
),

final as (
    select
        channel_id,
        card_code as source_customer_id,
        card_name as full_name,
        lower(trim(email_address)) as email,
        {{ phone_digits('phone1') }} as phone,
        card_type,
        valid = 'tNO' or frozen = 'tYES' as is_disabled,
        updated_at
    from source
)

select * from final
