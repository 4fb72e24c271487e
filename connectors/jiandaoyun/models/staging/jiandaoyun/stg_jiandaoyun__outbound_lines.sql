-- The 出库明细 subform of 销售出库单: one row per line, order_id joins stg_jiandaoyun__outbound_documents.
with source as (
    select * from {{ account_union('jiandaoyun', 'sales_outbound__lines') }}
),

final as (
    select
        channel_id || ':' || line_id as order_line_id,
        channel_id,
        channel_id || ':' || data_id as order_id,
        line_id as source_line_id,
        upper(trim(sku)) as source_sku,
        quantity,
        price as unit_price,
        amount as line_amount
    from source
)

select * from final
