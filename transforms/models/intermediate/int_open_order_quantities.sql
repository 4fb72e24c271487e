-- Units sold on any channel but not shipped yet: they are promised, so they are not available. A
-- line reserves what is still open of it, never more than it ordered less what was refunded (a
-- refunded unit on an unshipped order is not coming) less what a logistics account's labels already
-- ship of it (shipment_lines: the warehouse has sent them before the shop hears of it), whether or not
-- the SKU is still listed. A bundle (kit) has no stock of its own: its open units reserve its
-- components ({{ source('ops', 'bundles') }}).
with order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

shipment_lines as (
    {{ union_conformed('shipment_lines') }}
),

bundles as (
    select * from {{ source('ops', 'bundles') }}
),

shipped_per_line as (
    select order_line_id, {{ quantity_sum('quantity') }} as shipped_units
    from shipment_lines
    where order_line_id is not null
    group by order_line_id
),

open_lines as (
    select
        order_lines.product_id,
        greatest(least(
            order_lines.open_quantity,
            order_lines.quantity - order_lines.refunded_quantity - coalesce(shipped_per_line.shipped_units, 0)
        ), 0) as open_units
    from order_lines
    left join shipped_per_line on shipped_per_line.order_line_id = order_lines.order_line_id
    where order_lines.product_id is not null
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
