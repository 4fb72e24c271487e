-- One row per item of an after-sales case: the SKU and the units returned or refunded. An order has one
-- item per SKU, so order and SKU name the order line.
with source as (
    select * from {{ account_union('jushuitan', 'refunds__items') }}
),

final as (
    select
        channel_id || ':' || cast(asi_id as varchar) as refund_item_id,
        channel_id,
        channel_id || ':' || cast(as_id as varchar) as refund_id,
        upper(trim(sku_id)) as source_sku,
        qty as quantity,
        amount as refund_amount,
        type as item_type,
        _dlt_root_load_id as _loaded_at
    from source
)

select * from final
