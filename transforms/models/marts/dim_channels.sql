-- Grain: one account of channelhub.yml (a shop, a payments account, an ERP, a drop folder).
with channels as (
    select * from {{ source('ops', 'channels') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

selling as (
    select distinct channel_id from orders
),

final as (
    select
        channels.channel_id,
        channels.platform,
        channels.kind,
        channels.kind = 'channel' or selling.channel_id is not null as is_sales_channel,
        channels.is_stock_target,
        channels.timezone
    from channels
    left join selling on selling.channel_id = channels.channel_id
)

select * from final
