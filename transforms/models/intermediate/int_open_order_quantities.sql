-- Units sold on any channel but not shipped yet: they are promised, so they are not available. A
-- line reserves what is still open of it, never more than it ordered less what was refunded (a
-- refunded unit on an unshipped order is not coming), and whether or not the SKU is still listed.
with order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

final as (
    select
        product_id,
        {{ quantity_sum('greatest(least(open_quantity, quantity - refunded_quantity), 0)') }} as reserved
    from order_lines
    where product_id is not null
    group by product_id
)

select * from final
