-- The ERP's item master lists every SKU it keeps.
with items as (
    select * from {{ ref('stg_yonyou_u8__inventory') }}
),

final as (
    select channel_id, 'yonyou_u8' as platform, source_code,
           cast(null as varchar) as variant_id, cast(null as varchar) as inventory_item_id,
           cast(null as varchar) as stock_location_id
    from items
)

select * from final
