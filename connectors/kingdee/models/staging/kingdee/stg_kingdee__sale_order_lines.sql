-- One row per sales order line (SAL_SaleOrder's FSaleOrderEntry); order_id joins stg_kingdee__sale_orders.
with source as (
    select * from {{ account_union('kingdee', 'sale_order_entries') }}
),

final as (
    select
        channel_id || ':' || cast(f_sale_order_entry_f_entry_id as varchar) as order_line_id,
        channel_id,
        channel_id || ':' || cast(fid as varchar) as order_id,
        cast(f_sale_order_entry_f_entry_id as varchar) as source_line_id,
        f_seq as line_number,
        upper(trim(f_material_id_f_number)) as source_sku,
        f_qty as quantity,
        f_price as unit_price,
        f_amount as line_amount,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
