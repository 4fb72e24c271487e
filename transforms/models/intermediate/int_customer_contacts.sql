-- Every record that names a person: each source's customer records (the conformed customers models)
-- and the contact details on every order (a guest checkout names a person too). Emails trimmed and
-- lower-cased; phones in E.164, read in the account's region (ops.phone_numbers), or as the source
-- wrote them where no numbering plan can read them.
with customers as (
    {{ union_conformed('customers') }}
),

orders as (
    {{ union_conformed('orders') }}
),

phone_numbers as (
    select * from {{ source('ops', 'phone_numbers') }}
),

contacts as (
    select
        'customer' as record_kind, channel_id, source_customer_id as record_id, email, phone,
        first_name, last_name, created_at
    from customers
    union all
    select
        'order' as record_kind, channel_id, order_id as record_id, email, phone,
        cast(null as varchar) as first_name, cast(null as varchar) as last_name, ordered_at as created_at
    from orders
    where email is not null or phone is not null
),

normalised as (
    select
        contacts.record_kind,
        contacts.channel_id,
        contacts.record_id,
        nullif(lower(trim(contacts.email)), '') as email,
        coalesce(phone_numbers.e164, contacts.phone) as phone,
        contacts.first_name,
        contacts.last_name,
        contacts.created_at
    from contacts
    left join phone_numbers
        on phone_numbers.channel_id = contacts.channel_id
        and phone_numbers.phone = contacts.phone
),

final as (
    select * from normalised
    where email is not null or phone is not null or record_kind = 'customer'
)

select * from final
