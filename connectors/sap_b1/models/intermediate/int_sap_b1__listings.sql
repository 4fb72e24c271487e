-- The ERP lists every item it keeps.
with items as (
    select * from {{ ref('stg_sap_b1__items') }}
),

final as (
    select channel_id, 'sap_b1' as platform, source_code,
           cast(null as varchar) as variant_id, cast(null as varchar) as inventory_item_id,
           cast(null as varchar) as stock_location_id
    from items
)

select * from final
