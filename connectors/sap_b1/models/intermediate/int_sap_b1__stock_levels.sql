-- SAP B1's stock per item and warehouse (InStock), a system of record like U8's: source 'erp', as of the
-- account's last successful load. Which ERP accounts count as on hand is the stock policy's business.
with stock as (
    select * from {{ ref('stg_sap_b1__stock') }}
),

final as (
    {{ stock_of_record('stock') }}
)

select * from final
