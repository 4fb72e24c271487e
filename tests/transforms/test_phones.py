"""Phones in E.164 before a build (transforms/phones.py): every form a source writes one number in
is the same number, read in the account's region when it has no country code."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from transforms import phones
from transforms.seeds import channels
from warehouse import ensure_tables


def test_one_number_in_every_form_a_source_writes_it() -> None:
    forms = ["+86 138 0001 2345", "0086 13800012345", "008613800012345", "138 0001 2345", "+86-138-0001-2345"]
    assert {phones.e164(phones.digits(form), "CN") for form in forms} == {"+8613800012345"}
    assert phones.e164("2125550123", "US") == phones.e164("+1 (212) 555-0123", "DE") == "+12125550123"
    assert phones.e164("030 1234567", "DE") == "+49301234567"
    assert phones.e164("12", "CN") is None and phones.e164("n/a", "US") is None
    assert phones.e164("13800012345", None) is None  # no country code and no region: cannot be read


def test_an_accounts_default_region_is_the_country_of_its_time_zone() -> None:
    assert [phones.default_region(zone) for zone in ("Asia/Shanghai", "America/New_York", "Europe/Berlin", "UTC")] \
        == ["CN", "US", "DE", None]


def test_new_phones_are_written_once_and_again_when_the_region_changes(tmp_path: Path) -> None:
    engine = sa.create_engine(f"duckdb:///{tmp_path}/w.duckdb")
    sources = [("yonyou_u8", "customer", "c_cus_phone"), ("shopify", "orders", "phone")]
    with engine.begin() as conn:
        ensure_tables(conn, channels)
        conn.execute(channels.insert(), [
            {"channel_id": "erp_u8", "platform": "yonyou_u8", "kind": "erp", "is_stock_target": False,
             "timezone": "Asia/Shanghai", "phone_region": "CN"},
            {"channel_id": "shop_us", "platform": "shopify", "kind": "channel", "is_stock_target": True,
             "timezone": "America/New_York", "phone_region": "US"}])
        conn.execute(sa.text("create schema raw_erp_u8"))
        conn.execute(sa.text("create table raw_erp_u8.customer as select * from (values "
                             "('0086 138 0001 2345'), ('13800012345'), (null), ('13800012345')) as t(c_cus_phone)"))
        assert phones.write_phone_numbers(conn, sources) == 2  # shop_us has no raw table yet: skipped
        assert phones.write_phone_numbers(conn, sources) == 0
        rows = set(conn.execute(sa.text("select channel_id, phone, region, e164 from ops.phone_numbers")))
        assert rows == {("erp_u8", "008613800012345", "CN", "+8613800012345"),
                        ("erp_u8", "13800012345", "CN", "+8613800012345")}
        conn.execute(sa.text("update ops.channels set phone_region = 'US' where channel_id = 'erp_u8'"))
        assert phones.write_phone_numbers(conn, sources) == 2
        # read in the US now: 1 is the country code there
        assert conn.execute(sa.text("select e164 from ops.phone_numbers where phone = '13800012345'")).scalar() \
            == "+13800012345"
