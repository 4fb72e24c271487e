-- Jushuitan's stock per SKU and warehouse (wms_co_id), with source 'oms': fct_inventory shows it beside
-- the ERP's, named; int_stock_on_hand nets only source 'erp', so the same units held in an ERP and
-- mirrored in the OMS are not counted twice. As of the account's last successful load.
with stock as (
    select * from {{ ref('stg_jushuitan__stock') }}
),

final as (
    select
        channel_id,
        'oms' as source,
        source_code,
        warehouse_id,
        cast(quantity_on_hand as decimal(20, 6)) as quantity_on_hand,
        cast(null as timestamptz) as as_of_at
    from stock
)

select * from final
