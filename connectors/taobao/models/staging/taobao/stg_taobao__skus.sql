
  
  create view "wh"."staging"."stg_taobao__skus__dbt_tmp" as (
    -- A Taobao listing of a SKU: the item (num_iid) and SKU whose quantity stock write-back sets.
with source as (
    select * from (
    select
        cast('tmall_cn' as varchar) as channel_id,
        cast("sku_id" as bigint) as "sku_id",
        cast("_items_num_iid" as bigint) as "_items_num_iid",
        cast("outer_id" as varchar) as "outer_id",
        cast("quantity" as bigint) as "quantity",
        case when "price" between -999999999 and 999999999
        then cast(cast("price" as decimal(18, 9)) as decimal(18, 4))
        else cast("price" as decimal(18, 4)) end as "price",
        cast("properties_name" as varchar) as "properties_name",
        cast("modified" as timestamptz) as "modified"
    from "raw_tmall_cn"."skus"
    ) as taobao__skus
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
  );
