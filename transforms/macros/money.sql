{#- An integer amount in the currency's minor unit (cents), as Stripe sends it, as an exact
    DECIMAL(18,4) amount. Zero-decimal currencies (https://docs.stripe.com/currencies#zero-decimal)
    carry no minor unit. -#}
{% macro from_minor_units(amount, currency) -%}
    {%- set zero_decimal = ["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX",
                            "VND", "VUV", "XAF", "XOF", "XPF"] -%}
    cast({{ amount }} * case when upper({{ currency }}) in ('{{ zero_decimal | join("', '") }}') then 1 else 0.01 end
         as decimal(18, 4))
{%- endmacro %}

{#- Sums keep the type of what they add up. SUM widens DECIMAL(18,4) to DECIMAL(38,4) and BIGINT to
    HUGEINT (DuckDB) or NUMERIC (PostgreSQL): 128-bit columns that every later sum, join and scan of
    a mart then pays for (summing 1M DECIMAL(38,4) amounts costs about 3x the 64-bit ones). The cast
    fails loudly on an overflow rather than rounding. -#}
{% macro money_sum(expression) -%}
    cast(sum({{ expression }}) as decimal(18, 4))
{%- endmacro %}

{% macro quantity_sum(expression) -%}
    cast(sum({{ expression }}) as bigint)
{%- endmacro %}
