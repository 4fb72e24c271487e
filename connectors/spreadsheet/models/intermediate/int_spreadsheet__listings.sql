-- The codes the store exports use, in sales and in stock counts.
with offline_sales as (
    select * from {{ ref('stg_spreadsheet__offline_sales') }}
),

stock_counts as (
    select * from {{ ref('stg_spreadsheet__stock_counts') }}
),

codes as (
    select channel_id, source_sku as source_code from offline_sales where source_sku is not null
    union
    select channel_id, source_code from stock_counts where source_code is not null
),

final as (
    select channel_id, 'spreadsheet' as platform, source_code,
           cast(null as varchar) as variant_id, cast(null as varchar) as inventory_item_id,
           cast(null as varchar) as stock_location_id
    from codes
)

select * from final
