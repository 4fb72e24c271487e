-- Units sold on any channel but not shipped yet: they are promised, so they are not available. A
-- line reserves what is still open of it, never more than it ordered less what was refunded (a
-- refunded unit on an unshipped order is not coming), and whether or not the SKU is still listed. A
-- bundle (kit) has no stock of its own: its open units reserve its components ({{ source('ops', 'bundles') }}).
with order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

bundles as (
    select * from {{ source('ops', 'bundles') }}
),

open_lines as (
    select product_id, greatest(least(open_quantity, quantity - refunded_quantity), 0) as open_units
    from order_lines
    where product_id is not null
),

reserving as (
    select open_lines.product_id, open_lines.open_units
    from open_lines
    where open_lines.product_id not in (select bundle_id from bundles)
    union all
    select bundles.component_id as product_id, open_lines.open_units * bundles.quantity as open_units
    from open_lines
    join bundles on bundles.bundle_id = open_lines.product_id
),

final as (
    select product_id, {{ quantity_sum('open_units') }} as reserved
    from reserving
    group by product_id
)

select * from final
