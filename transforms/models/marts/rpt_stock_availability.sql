-- Grain: one merchant SKU on one channel that takes stock write-back (its primary location).
-- available_to_promise = on hand - reserved (open, unshipped orders on every channel) - safety stock;
-- allocated_quantity applies the channel's policy from channelhub.yml ({{ source('ops', 'stock_policy') }}): a
-- percentage of ATP, 0 when that share is below the floor, then the cap. This is what sync-stock pushes.
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
    select * from {{ ref('stg_shopify__inventory_levels') }}
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

primary_locations as (
    select channel_id, min(location_id) as location_id
    from locations
    where is_active
    group by channel_id
),

targets as (
    select distinct
        listings.product_id,
        listings.channel_id,
        primary_locations.location_id,
        listings.inventory_item_id
    from listings
    join channels
        on channels.channel_id = listings.channel_id
        and channels.is_stock_target
    join primary_locations on primary_locations.channel_id = listings.channel_id
    where listings.product_id is not null
        and listings.inventory_item_id is not null
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
    from targets
    join policy
        on policy.channel_id = targets.channel_id
        and (policy.product_id = targets.product_id or policy.product_id is null)
),

with_quantities as (
    select
        targets.*,
        cast(coalesce(on_hand.on_hand, 0) as bigint) as on_hand,
        cast(coalesce(reserved.reserved, 0) as bigint) as reserved,
        coalesce(ranked_policy.safety_stock, 0) as safety_stock,
        coalesce(ranked_policy.percentage, 100) as percentage,
        ranked_policy.cap,
        coalesce(ranked_policy.floor, 0) as floor,
        channel_levels.available_quantity as channel_quantity
    from targets
    left join on_hand on on_hand.product_id = targets.product_id
    left join reserved on reserved.product_id = targets.product_id
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
        greatest(on_hand - reserved - safety_stock, 0) as available_to_promise
    from with_quantities
),

with_share as (
    select
        *,
        cast(floor(available_to_promise * percentage * 0.01) as bigint) as policy_share
    from with_atp
),

final as (
    select
        product_id,
        channel_id,
        location_id,
        inventory_item_id,
        on_hand,
        reserved,
        safety_stock,
        available_to_promise,
        percentage,
        cap,
        floor,
        case
            when policy_share < floor then 0
            else least(policy_share, coalesce(cap, policy_share))
        end as allocated_quantity,
        channel_quantity
    from with_share
)

select * from final
