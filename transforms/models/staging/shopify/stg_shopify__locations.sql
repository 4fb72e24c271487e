with source as (
    select * from {{ account_union('shopify', 'locations') }}
),

final as (
    select
        channel_id,
        cast(id as varchar) as location_id,
        name as location_name,
        coalesce(active, true) as is_active
    from source
)

select * from final
