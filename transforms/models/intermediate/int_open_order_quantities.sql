-- Units sold on any channel but not shipped yet: they are promised, so they are not available.
with order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

final as (
    select product_id, {{ quantity_sum('open_quantity') }} as reserved
    from order_lines
    where product_id is not null
    group by product_id
)

select * from final
