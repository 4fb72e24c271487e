-- Grain: one SKU in one warehouse of one account, from one source (the conformed stock_levels models):
-- an ERP's current stock (summed over batches) as of its last successful load, and the latest
-- physical count from the store exports.
with stock_levels as (
    {{ union_conformed('stock_levels') }}
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

final as (
    select
        product_per_code.product_id,
        -- a code that matches no SKU is kept apart, by code: quarantined from the stock figures, named
        case when product_per_code.product_id is null then stock_levels.source_code end as unmatched_code,
        stock_levels.warehouse_id,
        stock_levels.source,
        stock_levels.channel_id,
        cast(sum(stock_levels.quantity_on_hand) as decimal(20, 6)) as quantity_on_hand,
        max(coalesce(stock_levels.as_of_at, last_loads.loaded_at)) as as_of_at
    from stock_levels
    left join last_loads on last_loads.channel_id = stock_levels.channel_id
    left join product_per_code
        on product_per_code.channel_id = stock_levels.channel_id
        and product_per_code.source_code = stock_levels.source_code
    group by
        product_per_code.product_id,
        case when product_per_code.product_id is null then stock_levels.source_code end,
        stock_levels.warehouse_id,
        stock_levels.source,
        stock_levels.channel_id
)

select * from final
