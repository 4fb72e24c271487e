{#- The hub's carrier code (as fct_shipments.carrier names carriers: EasyPost's names, and SF, ZTO, YTO,
    YUNDA, STO, JD, EMS for China) of a carrier a source names its own way: a shop's free text
    ('顺丰速运', 'SF Express'), a plugin's slug ('usps', 'dhl-us'), a tracker's code ('shunfeng'), a label
    platform's carrier code (ShipStation's 'stamps_com', 'ups_walleted', 'dhl_express_worldwide'). A name
    not listed is kept, upper case, so a new carrier shows up rather than vanishes. -#}
{% macro carrier_code(name) -%}
    {%- set codes = {
        "SF": ["sf", "sf express", "sf-express", "sfexpress", "shunfeng", "顺丰", "顺丰速运", "顺丰快递"],
        "ZTO": ["zto", "zto express", "zhongtong", "中通", "中通快递"],
        "YTO": ["yto", "yto express", "yuantong", "圆通", "圆通速递", "圆通快递"],
        "YUNDA": ["yunda", "yunda express", "韵达", "韵达快递", "韵达速递"],
        "STO": ["sto", "sto express", "shentong", "申通", "申通快递"],
        "JD": ["jd", "jd logistics", "jingdong", "京东", "京东物流", "京东快递"],
        "EMS": ["ems", "china post ems", "中国邮政", "邮政ems"],
        "USPS": ["usps", "stamps_com", "stamps.com", "endicia", "united states postal service"],
        "UPS": ["ups", "ups-us", "ups_walleted", "united parcel service"],
        "FedEx": ["fedex", "fed ex", "federal express"],
        "DHLExpress": ["dhl", "dhl express", "dhl_express", "dhlexpress", "dhl-us", "dhl-express",
                       "dhl_express_worldwide"],
    } -%}
    case
    {%- for code, names in codes.items() %}
        when lower(trim({{ name }})) in ({% for alias in names %}'{{ alias }}'{% if not loop.last %}, {% endif %}{% endfor %}) then '{{ code }}'
    {%- endfor %}
        else upper(trim({{ name }}))
    end
{%- endmacro %}
