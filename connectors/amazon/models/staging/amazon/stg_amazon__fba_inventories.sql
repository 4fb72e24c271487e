-- What Amazon holds of an FBA SKU in the account's marketplace: fulfillable units, the total with
-- inbound, reserved and unfulfillable ones. Read-only for the seller.
with source as (
    select * from {{ account_union('amazon', 'fba_inventory') }}
),

final as (
    select
        channel_id,
        seller_sku as sku,
        upper(trim(seller_sku)) as source_code,
        asin,
        fn_sku,
        inventory_details__fulfillable_quantity as fulfillable_quantity,
        total_quantity,
        last_updated_time as updated_at
    from source
)

select * from final
