-- One row per scan of a waybill (SF's routes): when (UTC), where (acceptAddress, a city), SF's remark
-- and operation code (opCode). route_index is the scan's place in SF's list.
with source as (
    select * from {{ account_union('sf_express', 'waybills__routes') }}
),

final as (
    select
        channel_id,
        carrier,
        tracking_code,
        _dlt_list_idx as route_index,
        accept_time as occurred_at,
        accept_address,
        remark,
        op_code
    from source
)

select * from final
