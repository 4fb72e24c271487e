{#- Models land in the schema their layer names (staging, intermediate, marts), not in dbt's default
    <target schema>_<custom schema>: BI tools, grants and the stock sync name `marts` directly. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
