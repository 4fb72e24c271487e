-- Grain: one person across every source, matched on normalised email (or phone where a source has
-- no email). source_ids keeps each source's own id as channel_id:id.
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
        count(*) as source_count,
        string_agg(channel_id || ':' || source_customer_id, ',' order by channel_id, source_customer_id)
            as source_ids
    from identities
    group by customer_id
)

select * from final
