-- Grain: one SKU in one warehouse from one source: the ERP's current stock (summed over batches), as
-- of the ERP's last successful load, and the latest physical count from the store exports.
with erp_stock as (
    select * from {{ ref('stg_yonyou_u8__current_stock') }}
),

stock_counts as (
    select * from {{ ref('stg_spreadsheet__stock_counts') }}
),

channels as (
    select * from {{ source('ops', 'channels') }}
),

run_log as (
    select * from {{ source('ops', 'run_log') }}
),

product_per_code as (
    select * from {{ ref('int_product_codes') }}
),

last_loads as (
    select account as channel_id, max(finished_at) as loaded_at
    from run_log
    where outcome = 'success'
    group by account
),

erp as (
    select
        product_per_code.product_id,
        erp_stock.warehouse_id,
        'erp' as source,
        erp_stock.channel_id,
        sum(erp_stock.quantity_on_hand) as quantity_on_hand,
        max(last_loads.loaded_at) as as_of_at
    from erp_stock
    left join last_loads on last_loads.channel_id = erp_stock.channel_id
    left join product_per_code
        on product_per_code.channel_id = erp_stock.channel_id
        and product_per_code.source_code = erp_stock.source_code
    group by product_per_code.product_id, erp_stock.warehouse_id, erp_stock.channel_id
),

ranked_counts as (
    select
        *,
        row_number() over (partition by channel_id, source_code, warehouse_id order by count_date desc) as recency
    from stock_counts
),

latest_counts as (
    select
        product_per_code.product_id,
        ranked_counts.warehouse_id,
        'stock_count' as source,
        ranked_counts.channel_id,
        cast(ranked_counts.quantity_on_hand as decimal(20, 6)) as quantity_on_hand,
        cast(ranked_counts.count_date as timestamp) at time zone channels.timezone as as_of_at
    from ranked_counts
    join channels on channels.channel_id = ranked_counts.channel_id
    left join product_per_code
        on product_per_code.channel_id = ranked_counts.channel_id
        and product_per_code.source_code = ranked_counts.source_code
    where ranked_counts.recency = 1
),

final as (
    select * from erp
    union all
    select * from latest_counts
)

select * from final
