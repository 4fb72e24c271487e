-- On-hand quantity per goods and warehouse, in Guanjiapo's internal ids (resolved in the intermediate model).
with source as (
    select * from {{ account_union('guanjiapo', 'stock') }}
),

final as (
    select
        channel_id,
        channel_id || ':' || goods_id || ':' || warehouse_id as stock_row_id,
        goods_id,
        warehouse_id as source_warehouse_id,
        quantity as quantity_on_hand
    from source
)

select * from final
