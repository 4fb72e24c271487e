-- SAP B1's stock per item and warehouse (InStock), a system of record like U8's: source 'erp', as of the
-- account's last successful load. Which ERP accounts count as on hand is the stock policy's business.
with stock as (
    select * from {{ ref('stg_sap_b1__stock') }}
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
