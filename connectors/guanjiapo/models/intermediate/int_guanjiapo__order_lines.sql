-- Guanjiapo's sales document lines, the goods' typeId resolved to the SKU. Booked documents are handed
-- over, so nothing is open or refunded. Quantities are whole units in the marts.
with sale_lines as (
    select * from {{ ref('stg_guanjiapo__sale_lines') }}
),

goods as (
    select * from {{ ref('stg_guanjiapo__goods') }}
),

documents as (
    select * from {{ ref('int_guanjiapo__orders') }}
),

final as (
    select
        sale_lines.order_line_id,
        sale_lines.order_id,
        sale_lines.channel_id,
        goods.source_code as source_sku,
        cast(sale_lines.quantity as bigint) as quantity,
        sale_lines.unit_price,
        sale_lines.line_amount,
        documents.currency,
        documents.ordered_at,
        0 as refunded_quantity,
        0 as open_quantity,
        sale_lines._loaded_at
    from sale_lines
    join documents on documents.order_id = sale_lines.order_id
    left join goods on goods.channel_id = sale_lines.channel_id and goods.goods_id = sale_lines.goods_id
)

select * from final
