-- One row per code a source uses, with the merchant SKU it resolves to (the lowest when a code is
-- listed twice, e.g. by two variants of one shop). Facts join their source codes here.
with listings as (
    select * from {{ ref('int_product_listings') }}
),

final as (
    select channel_id, source_code, min(product_id) as product_id
    from listings
    group by channel_id, source_code
)

select * from final
