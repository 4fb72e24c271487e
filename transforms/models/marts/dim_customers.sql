-- Grain: one person across every source, their records linked transitively on email (trimmed, lower
-- case), E.164 phone and source ids (int_customer_identities). A guest who only ordered is a person
-- too. source_ids keeps each source's own customer id as channel_id:id.
with identities as (
    select * from {{ ref('int_customer_identities') }}
),

final as (
    select
        customer_id,
        min(email) as email,
        min(phone) as phone,
        min(first_name) as first_name,
        min(last_name) as last_name,
        min(created_at) as first_seen_at,
        count(case when record_kind = 'customer' then 1 end) as source_count,
        string_agg(case when record_kind = 'customer' then channel_id || ':' || record_id end, ','
                   order by channel_id, record_id) as source_ids
    from identities
    group by customer_id
)

select * from final
