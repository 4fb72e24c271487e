{#- Generic tests the mart contracts use beyond dbt's built-in four (unique, not_null,
    accepted_values, relationships). Written here because dbt Hub packages (dbt_utils) cannot be
    fetched on offline machines. Great Expectations runs the same contract as the quality gate
    (expectations.contracts maps each test to an expectation); `dbt test` runs them as dbt tests. -#}

{% test accepted_range(model, column_name, min_value=none, max_value=none) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and ({% if min_value is not none %}{{ column_name }} < {{ min_value }}{% else %}false{% endif %}
       or {% if max_value is not none %}{{ column_name }} > {{ max_value }}{% else %}false{% endif %})
{% endtest %}

{% test matches_pattern(model, column_name, regex) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and not {% if target.type == 'postgres' %}({{ column_name }} ~ '{{ regex }}'){% else %}regexp_matches({{ column_name }}, '{{ regex }}'){% endif %}
{% endtest %}

{% test at_least(model, column_name, other) %}
select {{ column_name }}, {{ other }}
from {{ model }}
where {{ column_name }} < {{ other }}
{% endtest %}

{% test unique_combination_of_columns(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}

{% test within_tolerance(model, name, expression, tolerance) %}
select *
from (select {{ expression }} as {{ name }} from {{ model }}) as computed
where abs({{ name }}) > {{ tolerance }}
{% endtest %}
