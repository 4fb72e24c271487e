-- The latest physical count (盘点) per SKU and warehouse in the store exports, as of its count date in
-- the store's zone.
with stock_counts as (
    select * from {{ ref('stg_spreadsheet__stock_counts') }}
),

channels as (
    select * from {{ source('ops', 'channels') }}
),

ranked_counts as (
    select
        *,
        row_number() over (partition by channel_id, source_code, warehouse_id order by count_date desc) as recency
    from stock_counts
),

final as (
    select
        ranked_counts.channel_id,
        'stock_count' as source,
        ranked_counts.source_code,
        ranked_counts.warehouse_id,
        cast(ranked_counts.quantity_on_hand as decimal(20, 6)) as quantity_on_hand,
        cast(ranked_counts.count_date as timestamp) at time zone channels.timezone as as_of_at
    from ranked_counts
    join channels on channels.channel_id = ranked_counts.channel_id
    where ranked_counts.recency = 1
)

select * from final
