-- A Taobao listing of a SKU: the item (num_iid) and SKU whose quantity stock write-back sets.
with source as (
    select * from {{ account_union('taobao', 'skus') }}
),

final as (
    select
        channel_id,
        cast(sku_id as varchar) as sku_id,
        cast(_items_num_iid as varchar) as source_item_id,
        upper(trim(outer_id)) as source_code,
        properties_name as variant_title,
        price,
        quantity as available_quantity,
        modified as updated_at
    from source
)

select * from final
