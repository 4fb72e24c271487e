-- Guanjiapo's stock per goods and warehouse, a system of record: the internal typeIds resolved to the
-- SKU (goods' UserCode) and the warehouse's code, as of the account's last successful load.
with stock as (
    select * from {{ ref('stg_guanjiapo__stock') }}
),

goods as (
    select * from {{ ref('stg_guanjiapo__goods') }}
),

warehouses as (
    select * from {{ ref('stg_guanjiapo__warehouses') }}
),

final as (
    select
        stock.channel_id,
        'erp' as source,
        goods.source_code,
        warehouses.warehouse_code as warehouse_id,
        cast(stock.quantity_on_hand as decimal(20, 6)) as quantity_on_hand,
        cast(null as timestamptz) as as_of_at
    from stock
    join goods on goods.channel_id = stock.channel_id and goods.goods_id = stock.goods_id
    join warehouses on warehouses.channel_id = stock.channel_id
        and warehouses.source_warehouse_id = stock.source_warehouse_id
)

select * from final
