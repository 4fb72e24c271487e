-- Stock per SKU and warehouse as Jushuitan last reported it: qty on hand, order_lock what open orders
-- reserve of it.
with source as (
    select * from {{ account_union('jushuitan', 'inventory') }}
),

final as (
    select
        channel_id,
        cast(wms_co_id as varchar) as warehouse_id,
        upper(trim(sku_id)) as source_code,
        i_id as style_code,
        qty as quantity_on_hand,
        order_lock as reserved_quantity,
        modified as updated_at
    from source
)

select * from final
