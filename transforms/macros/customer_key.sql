{#- The key of a person: made here, once, from the smallest identifier ("email:ada@x.io",
    "phone:+8613800001234", "source:erp_u8:1001") of everything linked to them (int_customer_identities);
    facts take the key from there, so they and dim_customers agree. -#}
{% macro customer_key(identifier) -%}
    'cus_' || substr(md5({{ identifier }}), 1, 16)
{%- endmacro %}

{#- A phone as staging keeps it: digits and '+' only. transforms/phones.py keys ops.phone_numbers the
    same way (phones.digits), which is how the E.164 form is found. -#}
{% macro phone_digits(column) -%}
    nullif(regexp_replace({{ column }}, '[^0-9+]', '', 'g'), '')
{%- endmacro %}
