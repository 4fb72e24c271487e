-- A JD listing of a SKU: the ware (product) and SKU whose stockNum stock write-back sets.
with source as (
    select * from {{ account_union('jd', 'skus') }}
),

final as (
    select
        channel_id,
        cast(sku_id as varchar) as sku_id,
        cast(ware_id as varchar) as source_item_id,
        upper(trim(outer_id)) as source_code,
        sku_name as variant_title,
        jd_price as price,
        stock_num as available_quantity,
        modified as updated_at
    from source
)

select * from final
