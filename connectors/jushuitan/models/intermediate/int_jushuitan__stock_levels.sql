-- Jushuitan's stock per SKU and warehouse (wms_co_id), a stock of record (source 'erp') as an ERP's:
-- fct_inventory shows it, named by account, and stock.sources decides whether it is on hand (a merchant
-- whose ERP mirrors the same units lists one of them). As of the account's last successful load.
with stock as (
    select * from {{ ref('stg_jushuitan__stock') }}
),

final as (
    select
        channel_id,
        'erp' as source,
        source_code,
        warehouse_id,
        cast(quantity_on_hand as decimal(20, 6)) as quantity_on_hand,
        cast(null as timestamptz) as as_of_at
    from stock
)

select * from final
