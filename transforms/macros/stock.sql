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
