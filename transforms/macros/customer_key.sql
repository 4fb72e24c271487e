{#- The key of the person a record belongs to: the normalised email, or the phone where there is no
    email. Every model that carries a customer_id computes it here, so facts and dim_customers agree. -#}
{% macro customer_key(email, phone) -%}
    case when coalesce(nullif({{ email }}, ''), nullif({{ phone }}, '')) is not null
         then 'cus_' || substr(md5(coalesce(nullif({{ email }}, ''), nullif({{ phone }}, ''))), 1, 16) end
{%- endmacro %}
