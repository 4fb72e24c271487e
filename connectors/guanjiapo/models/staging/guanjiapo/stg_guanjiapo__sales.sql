-- Sales document headers (Dlyndx) of the account's sales VchTypes. Total is the document's amount in
-- yuan; draft is Guanjiapo's own code, carried as it is (its meaning is not documented).
with source as (
    select * from {{ account_union('guanjiapo', 'sales') }}
),

final as (
    select
        -- ids
        channel_id || ':' || cast(document_id as varchar) as order_id,
        channel_id,
        cast(document_id as varchar) as source_order_id,
        number as order_number,
        partner_id,
        warehouse_id as source_warehouse_id,

        -- document
        vch_type,
        draft as draft_code,
        memo,
        cast(total as decimal(18, 4)) as total_amount,

        -- the business date, and the last change (UTC)
        date as order_date,
        modified_at as updated_at,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
