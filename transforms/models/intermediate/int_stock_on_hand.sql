-- On hand per merchant SKU and ERP warehouse: the stock of record (stock_levels of source 'erp') over
-- its batches, of the ERP accounts and in the warehouses the stock policy counts
-- ({{ source('ops', 'stock_sources') }}, {{ source('ops', 'stock_warehouses') }}; an empty one counts
-- all). Two ERPs holding the same goods would otherwise be counted twice; store counts are reported
-- in fct_inventory, not netted here.
with erp_stock as (
    {{ union_conformed('stock_levels', where="source = 'erp'") }}
),

product_per_code as (
    select * from {{ ref('int_product_codes') }}
),

counted_stock as (
    select * from erp_stock
    where {{ counts_as_on_hand('erp_stock') }}
),

final as (
    select
        product_per_code.product_id,
        counted_stock.warehouse_id,
        sum(counted_stock.quantity_on_hand) as on_hand
    from counted_stock
    join product_per_code
        on product_per_code.channel_id = counted_stock.channel_id
        and product_per_code.source_code = counted_stock.source_code
    where product_per_code.product_id is not null
    group by product_per_code.product_id, counted_stock.warehouse_id
)

select * from final
