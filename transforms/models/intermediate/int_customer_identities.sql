{{ config(materialized='table') }}

-- Every contact record (int_customer_contacts) with the person it belongs to. Identities link
-- transitively: a record links its email, its phone and (a customer record) its source id, so an ERP
-- record with only a phone joins the web customer who has that phone, and that customer's Stripe
-- record through the email. A person is a connected group of identifiers, found by walking the links;
-- customer_id comes from the group's smallest identifier (customer_key), stable while the group is.
-- A table: the facts, dim_customers and the relinking post-hook all read it.
with recursive contacts as (
    select * from {{ ref('int_customer_contacts') }}
),

identifiers as (
    select record_kind, channel_id, record_id, 'email:' || email as identifier from contacts where email is not null
    union all
    select record_kind, channel_id, record_id, 'phone:' || phone from contacts where phone is not null
    union all
    select record_kind, channel_id, record_id, 'source:' || channel_id || ':' || record_id
    from contacts
    where record_kind = 'customer'
),

-- each record ties its identifiers to its smallest one
anchors as (
    select record_kind, channel_id, record_id, min(identifier) as anchor
    from identifiers
    group by record_kind, channel_id, record_id
),

links as (
    select identifiers.identifier as identifier, anchors.anchor as linked
    from identifiers
    join anchors
        on anchors.record_kind = identifiers.record_kind
        and anchors.channel_id = identifiers.channel_id
        and anchors.record_id = identifiers.record_id
    where identifiers.identifier <> anchors.anchor
),

edges as (
    select identifier as from_identifier, linked as to_identifier from links
    union
    select linked as from_identifier, identifier as to_identifier from links
),

-- every identifier reachable from each one (UNION: each pair once, so the walk ends)
reachable (identifier, origin) as (
    select identifier, identifier from identifiers
    union
    select edges.to_identifier, reachable.origin
    from reachable
    join edges on edges.from_identifier = reachable.identifier
),

people as (
    select identifier, min(origin) as person
    from reachable
    group by identifier
),

final as (
    select
        {{ customer_key('people.person') }} as customer_id,
        contacts.*
    from contacts
    join anchors
        on anchors.record_kind = contacts.record_kind
        and anchors.channel_id = contacts.channel_id
        and anchors.record_id = contacts.record_id
    join people on people.identifier = anchors.anchor
)

select * from final
