-- The ERP lists every SKU its 商品 form keeps.
with products as (
    select * from {{ ref('stg_jiandaoyun__products') }}
),

final as (
    select channel_id, 'jiandaoyun' as platform, source_code,
           cast(null as varchar) as variant_id, cast(null as varchar) as inventory_item_id,
           cast(null as varchar) as stock_location_id
    from products
)

select * from final
