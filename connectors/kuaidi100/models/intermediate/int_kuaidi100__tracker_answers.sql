-- The latest answer Kuaidi100 gave about each waybill asked (conformed tracker_answers role), scans or
-- not (查询无结果): when the tracker last asked (_loaded_at), which fct_shipments keeps as tracked_at, so a
-- waybill not picked up yet waits behind the others instead of being asked first on every run.
with waybills as (
    select * from {{ ref('stg_kuaidi100__waybills') }}
),

final as (
    select
        cast('kuaidi100' as varchar) as provider,
        channel_id,
        carrier,
        tracking_code,
        _loaded_at
    from waybills
)

select * from final
