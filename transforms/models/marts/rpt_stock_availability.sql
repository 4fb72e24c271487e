-- Grain: one listing of a merchant SKU at one active location of a channel that takes stock
-- write-back. Each location sells the ERP warehouses channelhub.yml maps it to
-- ({{ source('ops', 'stock_locations') }}; without a mapping the primary, lowest-id location sells
-- every counted warehouse; a marketplace without locations (Taobao, JD, Pinduoduo) is stocked per
-- listing, at the item holding it, from every counted warehouse). The channel's allocation = floor(ATP × percentage / 100), 0 below floor,
-- at most cap, with ATP = on hand in its warehouses - reserved (open orders on every channel) - safety
-- stock ({{ source('ops', 'stock_policy') }}); it is split over the locations in proportion to their
-- warehouses' stock, so the locations together never offer more. A location no warehouse is mapped to
-- gets 0 (unless the channel leaves unmapped locations alone), and so does a listing whose code the ERP
-- does not know (allocation_note says why). This is what sync-stock pushes.
with listings as (
    select * from {{ ref('int_product_listings') }}
),

channels as (
    select * from {{ source('ops', 'channels') }}
),

locations as (
    select * from {{ ref('stg_shopify__locations') }}
),

channel_levels as (
    {{ union_conformed('channel_stock') }}
),

on_hand as (
    select * from {{ ref('int_stock_on_hand') }}
),

reserved as (
    select * from {{ ref('int_open_order_quantities') }}
),

policy as (
    select * from {{ source('ops', 'stock_policy') }}
),

location_map as (
    select * from {{ source('ops', 'stock_locations') }}
),

channel_locations as (
    select
        channel_id,
        location_id,
        location_name,
        row_number() over (partition by channel_id order by location_id) = 1 as is_primary
    from locations
    where is_active
),

-- a channel without locations (a marketplace) keeps one stock per listing, held by the listing's item
-- (ware, goods): each such item sells every counted warehouse, as a primary location does
listing_locations as (
    select distinct channel_id, stock_location_id as location_id, stock_location_id as location_name,
           true as is_primary
    from listings
    where stock_location_id is not null
),

active_locations as (
    select * from channel_locations
    union all
    select * from listing_locations
),

-- (channel, location, warehouse) a location sells from; '*': every counted warehouse
location_warehouses as (
    select active_locations.channel_id, active_locations.location_id, location_map.warehouse_id
    from active_locations
    join location_map
        on location_map.channel_id = active_locations.channel_id
        and location_map.location in (active_locations.location_id, active_locations.location_name)
    union all
    select channel_id, location_id, '*' as warehouse_id
    from active_locations
    where is_primary
        and channel_id not in (select channel_id from location_map)
),

leaves_unmapped as (
    select distinct channel_id from policy where unmapped_locations = 'leave'
),

targets as (
    select distinct
        listings.product_id,
        listings.source_code,
        listings.channel_id,
        active_locations.location_id,
        listings.inventory_item_id,
        active_locations.location_id in (
            select location_id from location_warehouses where location_warehouses.channel_id = listings.channel_id
        ) as is_mapped
    from listings
    join channels
        on channels.channel_id = listings.channel_id
        and channels.is_stock_target
    join active_locations
        on active_locations.channel_id = listings.channel_id
        and (listings.stock_location_id is null or active_locations.location_id = listings.stock_location_id)
    where listings.inventory_item_id is not null
),

pushed_targets as (
    select * from targets
    where is_mapped or channel_id not in (select channel_id from leaves_unmapped)
),

location_on_hand as (
    select location_warehouses.channel_id, location_warehouses.location_id, on_hand.product_id,
           sum(on_hand.on_hand) as on_hand
    from location_warehouses
    join on_hand on location_warehouses.warehouse_id in (on_hand.warehouse_id, '*')
    group by location_warehouses.channel_id, location_warehouses.location_id, on_hand.product_id
),

-- a warehouse mapped to two locations of one channel counts once for the channel
channel_on_hand as (
    select channel_warehouses.channel_id, on_hand.product_id, sum(on_hand.on_hand) as on_hand
    from (select distinct channel_id, warehouse_id from location_warehouses) as channel_warehouses
    join on_hand on channel_warehouses.warehouse_id in (on_hand.warehouse_id, '*')
    group by channel_warehouses.channel_id, on_hand.product_id
),

reserved_per_product as (
    select * from reserved
),

bundles as (
    select * from {{ source('ops', 'bundles') }}
),

-- A bundle (kit) has no stock of its own: per channel, it is available as often as its scarcest
-- component allows, ATP = min over components of floor(component ATP / units per bundle), where the
-- component's ATP nets its own and its bundles' open orders and its safety stock on the channel.
bundle_components as (
    select channels_stocked.channel_id, bundles.bundle_id, bundles.component_id, bundles.quantity,
           coalesce(channel_on_hand.on_hand, 0) as on_hand,
           greatest(coalesce(channel_on_hand.on_hand, 0) - coalesce(reserved_per_product.reserved, 0)
                    - coalesce(component_rule.safety_stock, channel_rule.safety_stock, 0), 0) as available_to_promise
    from (select distinct channel_id from location_warehouses) as channels_stocked
    cross join bundles
    left join channel_on_hand
        on channel_on_hand.channel_id = channels_stocked.channel_id
        and channel_on_hand.product_id = bundles.component_id
    left join reserved_per_product on reserved_per_product.product_id = bundles.component_id
    left join policy as component_rule
        on component_rule.channel_id = channels_stocked.channel_id
        and component_rule.product_id = bundles.component_id
    left join policy as channel_rule
        on channel_rule.channel_id = channels_stocked.channel_id
        and channel_rule.product_id is null
),

bundle_stock as (
    select
        channel_id,
        bundle_id as product_id,
        min(cast(floor(on_hand * 1.0 / quantity) as bigint)) as on_hand,
        min(cast(floor(available_to_promise * 1.0 / quantity) as bigint)) as available_to_promise
    from bundle_components
    group by channel_id, bundle_id
),

bundle_location_stock as (
    select
        channel_locations.channel_id,
        channel_locations.location_id,
        bundles.bundle_id as product_id,
        min(cast(floor(coalesce(location_on_hand.on_hand, 0) * 1.0 / bundles.quantity) as bigint)) as on_hand
    from (select distinct channel_id, location_id from location_warehouses) as channel_locations
    cross join bundles
    left join location_on_hand
        on location_on_hand.channel_id = channel_locations.channel_id
        and location_on_hand.location_id = channel_locations.location_id
        and location_on_hand.product_id = bundles.component_id
    group by channel_locations.channel_id, channel_locations.location_id, bundles.bundle_id
),

ranked_policy as (
    select
        targets.product_id,
        targets.channel_id,
        policy.safety_stock,
        policy.percentage,
        policy.cap,
        policy.floor,
        row_number() over (
            partition by targets.product_id, targets.channel_id order by policy.product_id nulls last
        ) as priority
    from pushed_targets as targets
    join policy
        on policy.channel_id = targets.channel_id
        and (policy.product_id = targets.product_id or policy.product_id is null)
),

with_quantities as (
    select
        targets.*,
        cast(coalesce(bundle_stock.on_hand, channel_on_hand.on_hand, 0) as bigint) as on_hand,
        cast(coalesce(bundle_location_stock.on_hand, location_on_hand.on_hand, 0) as bigint) as location_on_hand,
        bundle_stock.available_to_promise as bundle_available_to_promise,
        cast(coalesce(reserved_per_product.reserved, 0) as bigint) as reserved,
        coalesce(ranked_policy.safety_stock, 0) as safety_stock,
        coalesce(ranked_policy.percentage, 100) as percentage,
        ranked_policy.cap,
        coalesce(ranked_policy.floor, 0) as floor,
        channel_levels.available_quantity as channel_quantity
    from pushed_targets as targets
    left join channel_on_hand
        on channel_on_hand.channel_id = targets.channel_id
        and channel_on_hand.product_id = targets.product_id
    left join location_on_hand
        on location_on_hand.channel_id = targets.channel_id
        and location_on_hand.location_id = targets.location_id
        and location_on_hand.product_id = targets.product_id
    left join reserved_per_product on reserved_per_product.product_id = targets.product_id
    left join bundle_stock
        on bundle_stock.channel_id = targets.channel_id
        and bundle_stock.product_id = targets.product_id
    left join bundle_location_stock
        on bundle_location_stock.channel_id = targets.channel_id
        and bundle_location_stock.location_id = targets.location_id
        and bundle_location_stock.product_id = targets.product_id
    left join ranked_policy
        on ranked_policy.product_id = targets.product_id
        and ranked_policy.channel_id = targets.channel_id
        and ranked_policy.priority = 1
    left join channel_levels
        on channel_levels.channel_id = targets.channel_id
        and channel_levels.inventory_item_id = targets.inventory_item_id
        and channel_levels.location_id = targets.location_id
),

with_atp as (
    select
        *,
        coalesce(bundle_available_to_promise, greatest(on_hand - reserved - safety_stock, 0)) as available_to_promise
    from with_quantities
),

with_share as (
    select
        *,
        cast(floor(available_to_promise * percentage * 0.01) as bigint) as policy_share
    from with_atp
),

channel_allocation as (
    select
        *,
        case
            when policy_share < floor then 0
            else least(policy_share, coalesce(cap, policy_share))
        end as channel_allocation
    from with_share
),

final as (
    select
        product_id,
        source_code,
        channel_id,
        location_id,
        inventory_item_id,
        on_hand,
        location_on_hand,
        reserved,
        safety_stock,
        available_to_promise,
        percentage,
        cap,
        floor,
        case
            when product_id is null or not is_mapped or on_hand = 0 then 0
            -- this location's part, in proportion to its warehouses' stock
            else cast(floor(channel_allocation * location_on_hand * 1.0 / on_hand) as bigint)
        end as allocated_quantity,
        case
            when product_id is null then 'unknown to the ERP'
            when not is_mapped then 'location not mapped to a warehouse'
        end as allocation_note,
        channel_quantity
    from channel_allocation
)

select * from final
