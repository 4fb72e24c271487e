-- What Amazon sold of each SKU at the last load: a seller-fulfilled SKU's quantity at its marketplace
-- (the listing's stock_location_id), and what Amazon holds of an FBA SKU, at 'FBA:<marketplace>' (no
-- listing targets it: shown, never written).
with listings as (
    select * from {{ ref('stg_amazon__listings') }}
),

fba as (
    select * from {{ ref('stg_amazon__fba_inventories') }}
),

marketplaces as (
    select distinct channel_id, marketplace_id from listings
),

final as (
    select channel_id, marketplace_id as location_id, sku as inventory_item_id, available_quantity
    from listings
    where not is_fulfilled_by_amazon
    union all
    select fba.channel_id, 'FBA:' || marketplaces.marketplace_id as location_id, fba.sku as inventory_item_id,
           fba.fulfillable_quantity as available_quantity
    from fba
    join marketplaces on marketplaces.channel_id = fba.channel_id
)

select * from final
