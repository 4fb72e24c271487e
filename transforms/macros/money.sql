{#- An integer amount in the currency's minor unit, as Stripe sends it, as an exact DECIMAL(18,4)
    amount: times the currency's ISO 4217 minor unit from {{ source('ops', 'currencies') }} (written
    before every build from the iso4217 package), so JPY has none and KWD three decimals. A currency
    ISO does not know gives NULL, which the marts' not-null checks report, rather than a guess. The
    table's key is ``iso_code``, a name no model's currency column shares (a subquery would read it). -#}
{% macro from_minor_units(amount, currency) -%}
    cast({{ amount }} * (select minor_unit from {{ source('ops', 'currencies') }} as iso4217
                         where iso4217.iso_code = upper({{ currency }})) as decimal(18, 4))
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
