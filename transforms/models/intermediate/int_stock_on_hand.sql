-- On hand per merchant SKU and ERP warehouse: the ERPs' current stock (stock_levels of source 'erp')
-- over their batches, in the warehouses the stock policy counts (all when
-- {{ source('ops', 'stock_warehouses') }} is empty). An ERP is the system of record for stock; store
-- counts are reported in fct_inventory, not netted here.
with erp_stock as (
    {{ union_conformed('stock_levels', where="source = 'erp'") }}
),

counted_warehouses as (
    select * from {{ source('ops', 'stock_warehouses') }}
),

product_per_code as (
    select * from {{ ref('int_product_codes') }}
),

final as (
    select
        product_per_code.product_id,
        erp_stock.warehouse_id,
        sum(erp_stock.quantity_on_hand) as on_hand
    from erp_stock
    join product_per_code
        on product_per_code.channel_id = erp_stock.channel_id
        and product_per_code.source_code = erp_stock.source_code
    where product_per_code.product_id is not null
        and (
            erp_stock.warehouse_id in (select warehouse_id from counted_warehouses)
            or not exists (select 1 from counted_warehouses)
        )
    group by product_per_code.product_id, erp_stock.warehouse_id
)

select * from final
