{#- The key of the person a record belongs to: the email (trimmed, lower case: " Ada@X.io" is
    ada@x.io), or the phone where there is no email. Every model that carries a customer_id computes it
    here, so facts and dim_customers agree. -#}
{% macro customer_key(email, phone) -%}
    {%- set identity = "coalesce(nullif(lower(trim(" ~ email ~ ")), ''), nullif(trim(" ~ phone ~ "), ''))" -%}
    case when {{ identity }} is not null then 'cus_' || substr(md5({{ identity }}), 1, 16) end
{%- endmacro %}
