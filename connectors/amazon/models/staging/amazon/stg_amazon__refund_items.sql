-- One row per item a refund event adjusts: its seller SKU and the quantity refunded.
-- source_refund_row_id joins to stg_amazon__refunds.source_row_id.
with source as (
    select * from {{ account_union('amazon', 'refunds__shipment_item_adjustment_list') }}
),

final as (
    select
        channel_id,
        _dlt_parent_id as source_refund_row_id,
        upper(trim(seller_sku)) as source_sku,
        coalesce(quantity_shipped, 0) as quantity
    from source
)

select * from final
