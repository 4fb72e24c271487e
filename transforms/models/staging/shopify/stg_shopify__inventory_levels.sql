with source as (
    select * from {{ account_union('shopify', 'inventory_levels') }}
),

final as (
    select
        channel_id,
        cast(inventory_item_id as varchar) as inventory_item_id,
        cast(location_id as varchar) as location_id,
        available as available_quantity,
        updated_at
    from source
)

select * from final
