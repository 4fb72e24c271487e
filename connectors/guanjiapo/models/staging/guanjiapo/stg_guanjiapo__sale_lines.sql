-- Sales document lines (DlySale in the shipped mapping): goods, quantity, price and amount.
with source as (
    select * from {{ account_union('guanjiapo', 'sale_lines') }}
),

final as (
    select
        channel_id || ':' || cast(line_id as varchar) as order_line_id,
        channel_id || ':' || cast(document_id as varchar) as order_id,
        channel_id,
        goods_id,
        warehouse_id as source_warehouse_id,
        quantity,
        cast(price as decimal(18, 4)) as unit_price,
        cast(total as decimal(18, 4)) as line_amount,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
