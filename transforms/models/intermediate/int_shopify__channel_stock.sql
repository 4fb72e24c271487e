-- What each Shopify location held of each inventory item at the last load (inventory_levels).
with levels as (
    select * from {{ ref('stg_shopify__inventory_levels') }}
),

final as (
    select channel_id, location_id, inventory_item_id, available_quantity
    from levels
)

select * from final
