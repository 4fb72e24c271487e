-- The 出库明细 lines of each 销售出库单: shipped, so nothing is open or refunded. Quantities are whole
-- units in the marts.
with lines as (
    select * from {{ ref('stg_jiandaoyun__outbound_lines') }}
),

documents as (
    select * from {{ ref('int_jiandaoyun__orders') }}
),

final as (
    select
        lines.order_line_id,
        lines.order_id,
        lines.channel_id,
        lines.source_sku,
        cast(lines.quantity as bigint) as quantity,
        lines.unit_price,
        lines.line_amount,
        documents.currency,
        documents.ordered_at,
        0 as refunded_quantity,
        0 as open_quantity,
        documents._loaded_at
    from lines
    join documents on documents.order_id = lines.order_id
)

select * from final
