-- One row per scan SF has shown of a waybill (SF's routes), kept when a later answer no longer holds it:
-- when (UTC), where (acceptAddress, a city), SF's remark and operation code (opCode). scan_id is the
-- scan within its waybill; route_index its place in the latest SF list holding it.
with source as (
    select * from {{ account_union('sf_express', 'routes') }}
),

final as (
    select
        channel_id,
        carrier,
        tracking_code,
        scan_id,
        route_index,
        accept_time as occurred_at,
        accept_address,
        remark,
        op_code
    from source
)

select * from final
