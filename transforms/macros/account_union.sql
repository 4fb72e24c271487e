{#- The raw table `table_name` of every enabled account of connector `source_name`, as one relation.

    A merchant has several accounts per connector (two Shopify shops), each loaded into its own schema
    raw_<account>. Which accounts exist is channelhub.yml's business: transforms.build writes them to
    ops.channels before dbt runs, and this macro reads that table, so the models never list accounts.
    Each row gets channel_id = the account; every column declared in the source's YAML is cast to its
    declared type, and a column an account has not loaded yet (dlt creates a column only once it sees
    a value) is a typed NULL. An account without the table contributes no rows. -#}
{% macro account_union(source_name, table_name) -%}
    {%- set declared = source(source_name, table_name) -%}  {#- lineage in the docs; not read -#}
    {%- if not execute -%}
        {{ return("(select 1 as channel_id) as parse_only") }}
    {%- endif -%}
    {%- set node = graph.sources.values() | selectattr('source_name', 'equalto', source_name)
                   | selectattr('name', 'equalto', table_name) | first -%}
    {%- set present = {} -%}
    {%- set found = run_query(
        "select ch.channel_id, lower(col.column_name), upper(col.data_type) from " ~ source('ops', 'channels')
        ~ " as ch join information_schema.columns as col on col.table_schema = 'raw_' || ch.channel_id "
        ~ "where ch.platform = '" ~ source_name ~ "' and col.table_name = '" ~ table_name ~ "'") -%}
    {%- for account, column, raw_type in found.rows -%}
        {%- do present.setdefault(account, {}).update({column: raw_type}) -%}
    {%- endfor -%}
    (
    {%- for account in present | sort %}
    select
        cast('{{ account }}' as varchar) as channel_id
        {%- for name, column in node.columns.items() %},
        {% if name in present[account] -%}
        {{ portable_cast(adapter.quote(name), column.data_type, present[account][name]) }}
        {%- else -%}
        cast(null as {{ portable_type(column.data_type) }})
        {%- endif %} as {{ adapter.quote(name) }}
        {%- endfor %}
    from {{ adapter.quote('raw_' ~ account) }}.{{ adapter.quote(table_name) }}
    {%- if not loop.last %}
    union all
    {%- endif -%}
    {%- else %}
    select
        cast(null as varchar) as channel_id
        {%- for name, column in node.columns.items() %},
        cast(null as {{ portable_type(column.data_type) }}) as {{ adapter.quote(name) }}
        {%- endfor %}
    where 1 = 0
    {%- endfor %}
    ) as {{ source_name }}__{{ table_name }}
{%- endmacro %}

{#- A source column's declared type in SQL both warehouses read the same way. NUMERIC alone would be
    DECIMAL(18,3) on DuckDB and round money, hence explicit precision. -#}
{% macro portable_type(kind) -%}
    {%- set types = {"text": "varchar", "bigint": "bigint", "numeric": "decimal(38, 9)",
                     "money": "decimal(18, 4)", "boolean": "boolean", "date": "date",
                     "timestamptz": "timestamptz", "double": "double precision"} -%}
    {%- if kind not in types -%}
        {{ exceptions.raise_compiler_error("source column type " ~ kind ~ " is not one of " ~ types.keys() | list) }}
    {%- endif -%}
    {{ types[kind] }}
{%- endmacro %}

{#- `expression` (a raw column of type `raw_type`, as the warehouse names it) cast to the declared
    type `kind`. -#}
{% macro portable_cast(expression, kind, raw_type) -%}
    {{ return(adapter.dispatch('portable_cast', 'channelhub')(expression, kind, raw_type)) }}
{%- endmacro %}

{% macro default__portable_cast(expression, kind, raw_type) -%}
    cast({{ expression }} as {{ portable_type(kind) }})
{%- endmacro %}

{#- DuckDB rescales a 128-bit decimal (dlt's DECIMAL(38,9)) to DECIMAL(18,4) about 30x slower than it
    narrows it to DECIMAL(18,9) first and rescales that (0.58 s against 0.02 s for 1M prices, same
    rounding): amounts below a billion take the fast path, larger ones the plain cast. -#}
{% macro duckdb__portable_cast(expression, kind, raw_type) -%}
    {%- if kind == 'money' and raw_type == 'DECIMAL(38,9)' -%}
    case when {{ expression }} between -999999999 and 999999999
        then cast(cast({{ expression }} as decimal(18, 9)) as decimal(18, 4))
        else cast({{ expression }} as decimal(18, 4)) end
    {%- else -%}
    {{ default__portable_cast(expression, kind, raw_type) }}
    {%- endif -%}
{%- endmacro %}
