{{ config(
    materialized='incremental',
    unique_key='order_line_id',
    post_hook=[
        "{{ remove_vanished('order_line_id', conformed_keys('order_lines', 'order_line_id')) }}",
        "{{ reresolve_products(ref('int_product_codes'), 'source_sku') }}",
    ],
) }}

-- Grain: one line of one order of any sales channel (the conformed order_lines models). open_quantity
-- is what is sold but not yet shipped (it reserves stock). An incremental build reads the lines of
-- new loads: each conformed model gives a line the load of the rows it comes from.
{% set window = load_window() if is_incremental() else none %}
with all_lines as (
    {{ union_conformed('order_lines', where=loaded_within(window)) }}
),

product_per_code as (
    select * from {{ ref('int_product_codes') }}
),

-- a line whose listing is gone (the product was removed from the channel) still names a merchant SKU
master_skus as (
    select distinct source_code as product_id from ({{ union_conformed('master_items') }}) as items
    union
    select distinct bundle_id as product_id from {{ source('ops', 'bundles') }}
),

final as (
    select
        all_lines.order_line_id,
        all_lines.order_id,
        all_lines.channel_id,
        coalesce(product_per_code.product_id, master_skus.product_id) as product_id,
        all_lines.source_sku,
        all_lines.quantity,
        all_lines.unit_price,
        all_lines.line_amount,
        all_lines.currency,
        all_lines.ordered_at,
        all_lines.refunded_quantity,
        all_lines.open_quantity,
        all_lines._loaded_at
    from all_lines
    left join product_per_code
        on product_per_code.channel_id = all_lines.channel_id
        and product_per_code.source_code = all_lines.source_sku
    left join master_skus on master_skus.product_id = all_lines.source_sku
)

select * from final
