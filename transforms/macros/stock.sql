{#- Whether a stock_levels row (``relation``: its alias) counts as on hand under the stock policy: the
    stock of record (source 'erp') of an ERP account listed in ops.stock_sources, in a warehouse listed
    in ops.stock_warehouses, an empty list counting all. int_stock_on_hand sums what counts;
    fct_inventory shows every row and says whether it counts. -#}
{% macro counts_as_on_hand(relation) -%}
    ({{ relation }}.source = 'erp'
        and ({{ relation }}.channel_id in (select channel_id from {{ source('ops', 'stock_sources') }})
             or not exists (select 1 from {{ source('ops', 'stock_sources') }}))
        and ({{ relation }}.warehouse_id in (select warehouse_id from {{ source('ops', 'stock_warehouses') }})
             or not exists (select 1 from {{ source('ops', 'stock_warehouses') }})))
{%- endmacro %}

{#- An ERP's (or OMS's) current stock per code and warehouse, already staged as channel_id, source_code,
    warehouse_id and quantity_on_hand (``relation``: its CTE), in the conformed stock_levels shape: a
    stock of record ('erp') as of the account's last successful load (as_of_at NULL). -#}
{% macro stock_of_record(relation) -%}
    select
        channel_id,
        'erp' as source,
        source_code,
        warehouse_id,
        cast(quantity_on_hand as decimal(20, 6)) as quantity_on_hand,
        cast(null as timestamptz) as as_of_at
    from {{ relation }}
{%- endmacro %}
