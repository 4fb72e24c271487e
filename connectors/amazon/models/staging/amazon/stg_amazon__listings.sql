-- A seller SKU in the account's marketplace: fulfilled by the seller (MFN, mfn_quantity is the quantity
-- stock write-back sets) or by Amazon (AFN, FBA: Amazon's stock, never written).
with source as (
    select * from {{ account_union('amazon', 'listings') }}
),

final as (
    select
        channel_id,
        sku,
        upper(trim(sku)) as source_code,
        marketplace_id,
        asin,
        item_name as product_name,
        fulfillment_channel,
        fulfillment_channel = 'AFN' as is_fulfilled_by_amazon,
        mfn_quantity as available_quantity,
        price,
        currency,
        last_updated_date as updated_at
    from source
)

select * from final
