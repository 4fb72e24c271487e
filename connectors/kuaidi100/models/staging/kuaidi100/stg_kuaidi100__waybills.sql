-- One row per waybill a Kuaidi100 account asked about: its latest answer. found is false while
-- Kuaidi100 has no scan of it (returnCode 500, 查询无结果); state is Kuaidi100's (0 在途, 1 揽收, 2 疑难,
-- 3 签收, 4 退签, 5 派件, 6 退回, 7 转单, 10+ customs and refusals).
with source as (
    select * from {{ account_union('kuaidi100', 'waybills') }}
),

final as (
    select
        channel_id,
        carrier,
        tracking_code,
        com as kuaidi100_company,
        found as is_found,
        state,
        ischeck = '1' as is_signed,
        return_code,
        message,
        _dlt_load_id as _loaded_at
    from source
)

select * from final
