-- Jushuitan's stock per SKU and warehouse (wms_co_id), a stock of record (source 'erp') as an ERP's:
-- fct_inventory shows it, named by account, and stock.sources decides whether it is on hand (a merchant
-- whose ERP mirrors the same units lists one of them). As of the account's last successful load.
with stock as (
    select * from {{ ref('stg_jushuitan__stock') }}
),

final as (
    {{ stock_of_record('stock') }}
)

select * from final
