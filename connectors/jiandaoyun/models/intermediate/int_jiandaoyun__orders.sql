-- The 销售出库单 form as the orders of an offline channel: goods shipped out of the merchant's warehouse,
-- settled outside any web shop (paid, fulfilled). The document holds only its total: what it differs
-- from its lines by is freight (above) or a discount (below). 出库日期 is an instant (UTC).
with documents as (
    select * from {{ ref('stg_jiandaoyun__outbound_documents') }}
),

lines as (
    select * from {{ ref('stg_jiandaoyun__outbound_lines') }}
),

line_totals as (
    select
        order_id,
        {{ money_sum('line_amount') }} as subtotal_amount,
        count(*) as line_count,
        {{ quantity_sum('quantity') }} as item_quantity
    from lines
    group by order_id
),

with_lines as (
    select
        documents.*,
        coalesce(line_totals.subtotal_amount, 0) as subtotal_amount,
        coalesce(line_totals.line_count, 0) as line_count,
        coalesce(line_totals.item_quantity, 0) as item_quantity,
        documents.total_amount - coalesce(line_totals.subtotal_amount, 0) as adjustment
    from documents
    left join line_totals on line_totals.order_id = documents.order_id
),

final as (
    select
        order_id,
        channel_id,
        'jiandaoyun' as platform,
        source_order_id,
        order_number,
        cast(null as varchar) as email,
        cast(null as varchar) as phone,
        coalesce(shipped_at, created_at) as ordered_at,
        updated_at,
        currency,
        subtotal_amount,
        cast(case when adjustment > 0 then adjustment else 0 end as decimal(18, 4)) as shipping_amount,
        cast(0 as decimal(18, 4)) as tax_amount,
        cast(case when adjustment < 0 then -adjustment else 0 end as decimal(18, 4)) as discount_amount,
        total_amount,
        cast(0 as decimal(18, 4)) as refunded_amount,
        'paid' as source_financial_status,
        'fulfilled' as source_fulfillment_status,
        false as is_cancelled,
        line_count,
        item_quantity,
        false as is_test,
        'offline' as payment_gateways,
        currency as presentment_currency,
        total_amount as presentment_total_amount,
        cast(0 as decimal(18, 4)) as presentment_refunded_amount,
        _loaded_at
    from with_lines
)

select * from final
