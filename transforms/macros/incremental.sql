{#- Incremental facts follow dlt's loads: each row carries `channel_id` (the account whose raw_<account>
    schema it comes from) and `_loaded_at` (the dlt load that wrote it). A row is new when its load is
    a completed load of its account (dlt lists it in that schema's `_dlt_loads` once every table of it
    is committed) that this table does not hold yet, within `window_seconds` of the newest load it
    holds: a load that started earlier but committed later is still picked up, and the rows of a load
    still being written (or left by a crash, which dlt finishes under the same id) wait until it
    completes. The loads are found first and written into the SQL as constants per account, so in
    each account's branch of a staging view the filter is one equality the database answers from its
    zone maps, reading only the new rows. Load ids are compared as dlt writes them, as text: Unix
    seconds with a fraction (ten digits before the point until 2286), so text order is time order. -#}
{% macro new_loads(window_seconds=86400) -%}
    {{- loaded_within(load_window(window_seconds)) -}}
{%- endmacro %}

{#- The loads new_loads picks, {account: [load ids]}, found once for a model that tests several
    relations against them: an order's line items carry the order's load; a report whose rows carry
    the newest load of all their inputs tests each input's. The window is counted back from the
    newest load the table holds (all completed loads while it holds none). -#}
{% macro load_window(window_seconds=86400) -%}
    {%- set channels = source('ops', 'channels') -%}  {#- called at parse time too: the accounts are an input -#}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set accounts = run_query(
        "select channels.channel_id from " ~ channels ~ " as channels join information_schema.tables as tables "
        ~ "on tables.table_schema = 'raw_' || channels.channel_id and tables.table_name = '_dlt_loads' order by 1"
    ).columns[0].values() -%}
    {%- set completed = ["select cast(null as varchar) as channel_id, cast(null as varchar) as load_id where 1 = 0"] -%}
    {%- for account in accounts -%}
        {%- do completed.append("select '" ~ account ~ "', load_id from "
                                ~ adapter.quote("raw_" ~ account) ~ "._dlt_loads where status = 0") -%}
    {%- endfor -%}
    {%- set found = run_query(
        "with held as (select distinct _loaded_at as load_id from " ~ this ~ " where _loaded_at is not null) "
        ~ "select completed.channel_id, completed.load_id "
        ~ "from (" ~ completed | join(" union all ") ~ ") as completed "
        ~ "where completed.load_id not in (select load_id from held) and cast(completed.load_id as double precision) "
        ~ "> (select coalesce(max(cast(load_id as double precision)), 0) from held) - " ~ window_seconds
        ~ " order by 1, 2") -%}
    {%- set loads = {} -%}
    {%- for account, load_id in found.rows -%}
        {%- do loads.setdefault(account, []).append(load_id) -%}
    {%- endfor -%}
    {{ return(loads) }}
{%- endmacro %}

{#- The rows of `relation` (an alias, or none for the model's own columns) in the loads of `window`. -#}
{% macro loaded_within(window, relation=none) -%}
    {%- set prefix = relation ~ "." if relation else "" -%}
    {%- if window is none -%}
    true
    {%- elif not window -%}
    false
    {%- else -%}
    ({% for account, load_ids in window | dictsort %}{% if not loop.first %} or {% endif -%}
        ({{ prefix }}channel_id = '{{ account }}' and {{ prefix }}_loaded_at in ('{{ load_ids | join("', '") }}'))
    {%- endfor %})
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of an incremental fact: delete the rows whose key no longer exists at the source (an
    order deleted in the shop, a replaced spreadsheet), recording each in ops.vanished_keys first.
    `current_keys` selects every key the table should hold now, each once: one query, or a list of
    queries whose keys together are those. After the insert the table holds all of them, so it holds
    a vanished key exactly when it has more keys than `current_keys`: counts decide whether the
    anti-join over every key (a third of a second at 1M orders) runs at all. Each query is counted on
    its own, where the database skips computing the key (a union would compute every key first, ten
    times the cost). NOT EXISTS rather than NOT IN, which finds nothing as soon as one current key is
    NULL; rows without a key (payments naming no order) are not keyed rows. -#}
{% macro remove_vanished(key, current_keys) -%}
    {%- call incremental_only() -%}
    {%- set queries = [current_keys] if current_keys is string else current_keys -%}
    {%- set current_count = [] -%}
    {%- for query in queries -%}
        {%- do current_count.append("(select count(*) from (" ~ query ~ ") as keys_" ~ loop.index ~ ")") -%}
    {%- endfor -%}
    {%- set counts = run_query("select (select count(" ~ key ~ ") from " ~ this ~ "), "
                               ~ current_count | join(" + ")).rows[0] -%}
    {%- if counts[0] > counts[1] -%}
    {%- set vanished = source('ops', 'vanished_keys') -%}
    insert into {{ vanished }} (model, vanished_key, invocation_id, removed_at)
    select '{{ this.identifier }}', fact.{{ key }}, '{{ invocation_id }}', current_timestamp
    from {{ this }} as fact
    where fact.{{ key }} is not null
        and not exists (
            select 1 from ({{ queries | join(' union all ') }}) as current_keys
            where current_keys.{{ key }} = fact.{{ key }}
        );
    delete from {{ this }}
    where {{ key }} in (
        select vanished_key from {{ vanished }}
        where model = '{{ this.identifier }}' and invocation_id = '{{ invocation_id }}'
    )
    {%- else -%}
    select 1
    {%- endif -%}
    {%- endcall -%}
{%- endmacro %}

{#- Post-hook of an incremental fact whose rows carry a product_id resolved from a source code: when
    the resolution changed since the rows were built (an ops.sku_mapping edit, a new ERP item, a code
    that no longer resolves), update product_id in place. The rows' own loads are old, so new_loads
    would never revisit them; an update touches only the rows whose answer changed. -#}
{% macro reresolve_products(codes, code_column) -%}
    {%- call incremental_only() -%}
    update {{ this }} as fact
    set product_id = changed.product_id
    from (
        select built.channel_id, built.source_code, codes.product_id
        from (select distinct channel_id, {{ code_column }} as source_code, product_id from {{ this }}) as built
        left join {{ codes }} as codes
            on codes.channel_id = built.channel_id
            and codes.source_code = built.source_code
        where built.product_id is distinct from codes.product_id
    ) as changed
    where changed.channel_id = fact.channel_id
        and changed.source_code = fact.{{ code_column }}
    {%- endcall -%}
{%- endmacro %}

{#- Post-hook of an incremental fact of payments: order_id names the order only while the order
    exists. A payment loaded before its order (the provider is read before the shop) gets the order
    once it is in `orders`; a payment whose order was deleted at the source loses it. Neither comes
    with a new load of the payment, so new_loads would never revisit them. Orders leave `orders` only
    through its remove_vanished hook, which records them: only payments naming a recorded order are
    checked, not every payment against every order. -#}
{% macro relink_orders(payments, orders) -%}
    {%- call incremental_only() -%}
    update {{ this }} as fact
    set order_id = relinked.order_id
    from (
        select waiting.payment_id, orders.order_id
        from {{ this }} as waiting
        join {{ payments }} as payments on payments.payment_id = waiting.payment_id
        join {{ orders }} as orders on orders.order_id = payments.order_id
        where waiting.order_id is null
        union all
        select linked.payment_id, cast(null as varchar) as order_id
        from {{ this }} as linked
        where linked.order_id in (
                select vanished_key from {{ source('ops', 'vanished_keys') }} where model = '{{ orders.identifier }}'
            )
            and not exists (select 1 from {{ orders }} as orders where orders.order_id = linked.order_id)
    ) as relinked
    where relinked.payment_id = fact.payment_id
    {%- endcall -%}
{%- endmacro %}

{#- Post-hook of an incremental fact of refunds: a refund names the order of the payment it refunds,
    and relink_orders changes a payment's order after the refund was built (its order arrived later,
    or vanished). Only refunds whose payment now names another order are updated. -#}
{% macro follow_payment_orders(payments) -%}
    {%- call incremental_only() -%}
    update {{ this }} as fact
    set order_id = moved.order_id
    from (
        select refunds.refund_id, payments.order_id
        from {{ this }} as refunds
        left join {{ payments }} as payments on payments.payment_id = refunds.payment_id
        where payments.order_id is distinct from refunds.order_id
    ) as moved
    where moved.refund_id = fact.refund_id
    {%- endcall -%}
{%- endmacro %}

{#- Pre-hook of rpt_payment_reconciliation: its rows of payments without an order have no key to
    replace them by; an incremental build deletes them all and computes them again (they are few). -#}
{% macro remove_orphan_rows() -%}
    {%- call incremental_only() -%}
    delete from {{ this }} where order_id is null
    {%- endcall -%}
{%- endmacro %}

{#- The hooks above fix up rows an earlier build left. A table just built whole (first build, full
    refresh, rebuild after a change of logic) has none: their statement is skipped. -#}
{% macro incremental_only() -%}
    {%- if should_full_refresh() or not is_incremental() -%}
    select 1
    {%- else -%}
    {{ caller() }}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of an incremental fact carrying customer_id: people merge when a new record links two of
    them (a phone now shared), so orders built earlier take their person's current key. -#}
{% macro relink_customers(identities) -%}
    {%- call incremental_only() -%}
    update {{ this }} as fact
    set customer_id = linked.customer_id
    from {{ identities }} as linked
    where linked.record_kind = 'order'
        and linked.record_id = fact.order_id
        and linked.customer_id <> coalesce(fact.customer_id, '')
    {%- endcall -%}
{%- endmacro %}
