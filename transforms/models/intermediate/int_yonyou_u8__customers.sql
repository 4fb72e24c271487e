-- U8's customer master (a company or person name, no split into first and last).
with customers as (
    select * from {{ ref('stg_yonyou_u8__customers') }}
),

final as (
    select channel_id, source_customer_id, email, phone, cast(null as varchar) as first_name,
           cast(null as varchar) as last_name, updated_at as created_at
    from customers
)

select * from final
