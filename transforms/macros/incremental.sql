{#- Incremental facts follow dlt's loads. A row is new when its load (the `_loaded_at` load id, in
    seconds) is within `window_seconds` of the newest load the table holds and is not one it already
    holds, so a load that started earlier but committed later is still picked up. The bounds are
    computed first and written into the SQL as constants, which lets the database prune its raw scans
    instead of evaluating the whole model. -#}
{% macro new_loads(column, window_seconds=86400) -%}
    {%- if not execute -%}{{ return("true") }}{%- endif -%}
    {%- set newest = run_query("select cast(max(" ~ column ~ ") as varchar) from " ~ this).rows[0][0] -%}
    {%- if newest is none -%}{{ return("true") }}{%- endif -%}
    {%- set since = newest | float - window_seconds -%}
    {%- set seen = run_query("select distinct cast(" ~ column ~ " as varchar) from " ~ this
                             ~ " where " ~ column ~ " > " ~ since).columns[0].values() -%}
    {{ column }} > {{ since }}
    {%- if seen %} and {{ column }} not in ({{ seen | join(", ") }}){% endif -%}
{%- endmacro %}

{#- Post-hook of an incremental fact: delete the rows whose key no longer exists at the source (an
    order deleted in the shop, a replaced spreadsheet). EXCEPT rather than NOT IN, which deletes
    nothing as soon as one current key is NULL. A full refresh rebuilt the table from the sources as
    they are, so nothing vanished can be left: the anti-join over every key is skipped. -#}
{% macro remove_vanished(key, current_keys) -%}
    {%- if should_full_refresh() -%}
    select 1
    {%- else -%}
    delete from {{ this }}
    where {{ key }} in (
        select {{ key }} from {{ this }}
        except
        select {{ key }} from ({{ current_keys }}) as current_keys
    )
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of an incremental fact whose rows carry a product_id resolved from a source code: when
    the resolution changed since the rows were built (an ops.sku_mapping edit, a new ERP item, a code
    that no longer resolves), update product_id in place. The rows' own loads are old, so new_loads
    would never revisit them; an update touches only the rows whose answer changed. -#}
{% macro reresolve_products(codes, code_column) -%}
    {%- if should_full_refresh() or not is_incremental() -%}
    select 1
    {%- else -%}
    update {{ this }} as fact
    set product_id = changed.product_id
    from (
        select built.channel_id, built.source_code, codes.product_id
        from (select distinct channel_id, {{ code_column }} as source_code, product_id from {{ this }}) as built
        left join {{ codes }} as codes
            on codes.channel_id = built.channel_id
            and codes.source_code = built.source_code
        where built.product_id is distinct from codes.product_id
    ) as changed
    where changed.channel_id = fact.channel_id
        and changed.source_code = fact.{{ code_column }}
    {%- endif -%}
{%- endmacro %}
