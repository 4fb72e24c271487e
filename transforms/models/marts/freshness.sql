{{ config(materialized='view') }}

-- Grain: one enabled account. A view on the run log, so BI always shows the data's age as of now.
with channels as (
    select * from {{ source('ops', 'channels') }}
),

runs as (
    select * from {{ source('ops', 'run_log') }}
    where stream = '*'  -- each run's own row: running, success or failed
),

ranked_runs as (
    select
        account,
        finished_at,
        outcome,
        row_number() over (partition by account order by finished_at desc) as recency
    from runs
),

last_runs as (
    select account, finished_at as last_run_at, outcome as last_outcome
    from ranked_runs
    where recency = 1
),

last_successes as (
    select account, max(finished_at) as last_success_at
    from runs
    where outcome = 'success'
    group by account
),

final as (
    select
        channels.channel_id as account,
        channels.platform,
        channels.schedule,
        last_runs.last_run_at,
        last_runs.last_outcome,
        last_successes.last_success_at,
        round(cast(extract(epoch from (current_timestamp - last_successes.last_success_at)) / 3600 as numeric), 1)
            as hours_since_success
    from channels
    left join last_runs on last_runs.account = channels.channel_id
    left join last_successes on last_successes.account = channels.channel_id
)

select * from final
