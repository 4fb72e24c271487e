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

{#- An amount rounded to the currency's minor unit (ISO 4217 exponent, as from_minor_units): the
    result of a conversion (a presentment-currency refund in the shop's currency) is exact from there. -#}
{% macro round_money(expression, currency) -%}
    {%- set units = "(select cast(power(10, exponent) as bigint) from " ~ source('ops', 'currencies')
                    ~ " as iso4217 where iso4217.iso_code = upper(" ~ currency ~ "))" -%}
    {{ from_minor_units("cast(round((" ~ expression ~ ") * " ~ units ~ ") as bigint)", currency) }}
{%- endmacro %}

{#- Whether an order's comma-separated payment gateways include one whose money a payments account in
    this warehouse shows: var provider_gateways (dbt_project.yml) maps a gateway to the provider's
    platform. An order paid otherwise (manual, gift card, cash on delivery, a provider not loaded) is
    paid outside the provider. -#}
{% macro paid_through_provider(gateways) -%}
    (false
    {%- for gateway, platform in var('provider_gateways').items() %}
        or ((',' || replace({{ gateways }}, ' ', '') || ',') like '%,{{ gateway }},%'
            and exists (select 1 from {{ source('ops', 'channels') }} as providers
                        where providers.kind = 'payments' and providers.platform = '{{ platform }}'))
    {%- endfor %})
{%- endmacro %}
