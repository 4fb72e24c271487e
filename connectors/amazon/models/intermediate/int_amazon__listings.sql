-- Amazon lists a seller SKU per marketplace: the marketplace holds the listing's stock (one quantity per
-- SKU, no locations). Only a seller-fulfilled SKU has an inventory item stock write-back sets; an FBA
-- SKU is listed without one, so the stock sync never targets it.
with listings as (
    select * from {{ ref('stg_amazon__listings') }}
),

final as (
    select channel_id, 'amazon' as platform, source_code, sku as variant_id,
           case when not is_fulfilled_by_amazon then sku end as inventory_item_id,
           marketplace_id as stock_location_id
    from listings
    where source_code is not null
)

select * from final
