{#- An integer amount in the currency's minor unit (cents), as Stripe sends it, as an exact
    DECIMAL(18,4) amount. Zero-decimal currencies (https://docs.stripe.com/currencies#zero-decimal)
    carry no minor unit. -#}
{% macro from_minor_units(amount, currency) -%}
    {%- set zero_decimal = ["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX",
                            "VND", "VUV", "XAF", "XOF", "XPF"] -%}
    cast({{ amount }} * case when upper({{ currency }}) in ('{{ zero_decimal | join("', '") }}') then 1 else 0.01 end
         as decimal(18, 4))
{%- endmacro %}
