-- Guanjiapo's partners (Btype, 往来单位): customers and suppliers alike, a company or person name, the
-- contact person and a phone (no email).
with source as (
    select * from {{ account_union('guanjiapo', 'partners') }}
),

final as (
    select
        channel_id,
        partner_id,
        trim(code) as partner_code,
        name as full_name,
        contact as contact_name,
        {{ phone_digits('phone') }} as phone
    from source
)

select * from final
