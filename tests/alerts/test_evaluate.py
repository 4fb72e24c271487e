"""An alert's life on a real warehouse (DuckDB and PostgreSQL): opened and sent once, not re-sent while
open, reminded after ``remind_every``, resolved and announced, retried when a destination failed, and
routed by rule. The ops tables are written by the library's own writers (run log, stock push audit,
quality store); the rules on built marts are checked against the World in tests/transforms/test_build.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from channelhub.alerts import check_alerts, list_alerts
from channelhub.cli import app
from channelhub.config import HubConfig, load_config
from channelhub.stock.audit import ALL, PushRecord
from channelhub.stock.audit import record as record_pushes
from expectations.store import ExpectationOutcome, QualityRun
from expectations.store import record as record_quality
from tests.alerts.conftest import Mailbox, Receiver
from tests.expectations.tables import SHIPPED, execute, write_marts
from tests.pipeline import isolate_env, small_config
from warehouse import StreamRun, Warehouse, record_runs

T = datetime(2026, 11, 2, 10, 40, tzinfo=UTC)
TOKEN = "ding-token-5d2e8b"
LOADED = ("erp_u8", "shop_us", "store_files", "stripe_main")  # shop_eu never loads


# Every alert scenario runs on both warehouses; on PostgreSQL with the end-to-end checks, but for the
# open-remind-resolve cycle (make test's PostgreSQL parity of the alert store, once).
BOTH_WAREHOUSES = pytest.mark.parametrize("hub", ["duckdb", "postgres"], indirect=True)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.e2e)])
def hub(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        mailbox: tuple[Mailbox, int], receiver: Receiver) -> Iterator[HubConfig]:
    """The shipped merchant's accounts, alerting to an ops mailbox (every rule) and the warehouse team's
    DingTalk bot (stock pushes only), with hourly reminders."""
    isolate_env(monkeypatch, tmp_path)
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    monkeypatch.setenv("OPS_MAIL", f"mailto://127.0.0.1:{mailbox[1]}?from=hub@example.com&to=ops@example.com"
                                   "&mode=insecure")
    monkeypatch.setenv("WAREHOUSE_DING", f"{receiver.url}/robot/send?access_token={TOKEN}")
    alerts = {"remind_every": "PT1H", "destinations": [
        {"name": "ops-mail", "apprise_env": "OPS_MAIL"},
        {"name": "warehouse-ding", "webhook_env": "WAREHOUSE_DING", "format": "dingtalk", "rules": ["stock_push"]}]}
    yield load_config(small_config(tmp_path, warehouse_url=url, edit={"alerts": alerts}))


def loaded(hub: HubConfig, at: datetime, *accounts: str) -> None:
    record_runs(Warehouse(hub.warehouse_url), [
        StreamRun(f"run-{name}-{at.timestamp()}", name, hub.accounts[name].connector, "*", at - timedelta(minutes=1),
                  at, 10, "success", False) for name in accounts])


def rows(hub: HubConfig) -> list[dict[str, Any]]:
    with Warehouse(hub.warehouse_url).engine.connect() as conn:
        return [dict(row) for row in conn.execute(sa.text("select * from ops.alerts order by opened_at, alert_key"))
                .mappings()]


@BOTH_WAREHOUSES
def test_an_alert_is_sent_when_it_opens_reminded_while_open_and_announced_when_resolved(
        hub: HubConfig, mailbox: tuple[Mailbox, int], receiver: Receiver) -> None:
    box, _ = mailbox
    loaded(hub, T, *LOADED)
    first = check_alerts(hub, as_of=T + timedelta(minutes=5))
    assert [alert.alert_key for alert in first.open] == ["stale_account:shop_eu"]
    assert first.ok and [alert.alert_key for alert in first.sent] == ["stale_account:shop_eu"]
    [mail] = box.texts()
    assert "shop_eu has not loaded ever (schedule 15 * * * *, 2 runs missed)" in mail
    assert "never run" in mail and "channelhub run shop_eu" in mail  # the record and what to do
    assert receiver.posts == []  # the warehouse bot takes stock pushes only

    again = check_alerts(hub, as_of=T + timedelta(minutes=30))
    assert [alert.alert_key for alert in again.open] == ["stale_account:shop_eu"] and again.sent == []
    assert len(box.messages) == 1  # open, but not sent on every evaluation

    reminded = check_alerts(hub, as_of=T + timedelta(minutes=65))
    assert [alert.alert_key for alert in reminded.sent] == ["stale_account:shop_eu"] and len(box.messages) == 2

    loaded(hub, T + timedelta(minutes=70), "shop_eu")
    resolved = check_alerts(hub, as_of=T + timedelta(minutes=75))
    assert resolved.open == [] and [alert.alert_key for alert in resolved.resolved] == ["stale_account:shop_eu"]
    assert box.texts()[-1].startswith("[channelhub] resolved: shop_eu has not loaded ever")
    [row] = rows(hub)
    assert (row["status"], row["record_count"], row["delivery_error"]) == ("resolved", 1, None)
    assert row["resolution_notified_at"] is not None and list_alerts(hub) == []
    assert len(check_alerts(hub, as_of=T + timedelta(minutes=80)).sent) == 0  # the resolution went once


def test_a_failed_delivery_stays_due_and_is_sent_next_time_without_revealing_the_address(
        hub: HubConfig, mailbox: tuple[Mailbox, int], receiver: Receiver) -> None:
    loaded(hub, T, *LOADED, "shop_eu")
    record_pushes(Warehouse(hub.warehouse_url), [
        PushRecord("sync-1", "shop_us", ALL, None, None, None, None, T, "refused",
                   "would set 37 of 40 levels (92 %) to 0, more than max_zeroed_share 20 %")])
    receiver.reply = {"errcode": 310000, "errmsg": "sign not match"}
    failed = check_alerts(hub, as_of=T + timedelta(minutes=5))
    assert [alert.alert_key for alert in failed.open] == ["stock_push:shop_us"]
    assert failed.errors == ["warehouse-ding: dingtalk refused the message: code 310000 sign not match"]
    assert len(mailbox[0].messages) == 1  # the other destination got it all the same
    [row] = rows(hub)
    assert row["notified_at"] is None and "310000" in row["delivery_error"]
    assert TOKEN not in str(rows(hub)) and TOKEN not in " ".join(failed.errors)

    receiver.reply = {"errcode": 0, "errmsg": "ok"}
    retried = check_alerts(hub, as_of=T + timedelta(minutes=10))
    assert retried.ok and [alert.alert_key for alert in retried.sent] == ["stock_push:shop_us"]
    text = receiver.posts[-1].body["markdown"]["text"]
    assert "the last stock push to shop_us was refused" in text and "max_zeroed_share 20 %" in text
    assert "--force" in text  # what to do


def test_quality_failures_alert_per_table_from_the_last_validation_only(hub: HubConfig) -> None:
    loaded(hub, T, *LOADED, "shop_eu")
    warehouse = Warehouse(hub.warehouse_url)
    failing = [ExpectationOutcome("marts", "fct_orders", "expect_column_values_to_not_be_null", "order_id",
                                  "critical", False, "3 nulls"),
               ExpectationOutcome("marts", "fct_orders", "expect_column_values_to_match_regex", "currency",
                                  "warning", False, "1 unexpected"),
               ExpectationOutcome("marts", "dim_products", "expect_column_values_to_be_unique", "product_id",
                                  "warning", False),
               ExpectationOutcome("marts", "rpt_payment_reconciliation", "expect_column_values_to_be_in_set",
                                  "status", "info", False)]
    record_quality(warehouse, QualityRun("q1", T, T, False, 1, 2, None, None), failing)
    report = check_alerts(hub, as_of=T + timedelta(minutes=5), deliver=False)
    by_key = {alert.alert_key: alert for alert in report.open}
    assert set(by_key) == {"quality:fct_orders", "quality:dim_products"}  # info is reported, never alerted
    assert by_key["quality:fct_orders"].severity == "critical"
    assert by_key["quality:fct_orders"].records == (
        "order_id expect_column_values_to_not_be_null (observed 3 nulls)",
        "currency expect_column_values_to_match_regex (observed 1 unexpected)")

    record_quality(warehouse, QualityRun("q2", T + timedelta(minutes=6), T + timedelta(minutes=7), True, 0, 0,
                                         None, None), [])
    assert check_alerts(hub, as_of=T + timedelta(minutes=8), deliver=False).open == []


def test_a_payout_short_of_its_payments_alerts_its_account_until_it_balances(hub: HubConfig) -> None:
    write_marts(hub)  # a small merchant paid through Stripe, its one payout balanced

    def settlement(at: datetime) -> list[Any]:
        report = check_alerts(hub, as_of=at, deliver=False)
        return [alert for alert in report.open if alert.rule == "settlement"]

    assert settlement(T) == []
    execute(hub, "update marts.fct_payouts set amount = amount - 2.5, difference = -2.5, is_balanced = false")
    [short] = settlement(T + timedelta(minutes=5))
    assert (short.alert_key, short.records) == ("settlement:stripe_main", ("payout po_1 (USD -2.50)",))
    assert "difference USD -2.50" in short.title and "fct_payments" in short.action
    execute(hub, "update marts.fct_payouts set amount = expected_amount, difference = 0, is_balanced = true")
    assert settlement(T + timedelta(minutes=10)) == []


def test_paid_orders_a_logistics_account_shipped_are_not_unshipped(hub: HubConfig) -> None:
    """The shop has not marked them fulfilled, but EasyPost bought their labels (fct_shipments): only
    the others are reminded."""
    write_marts(hub, orders=3)  # EasyPost shipped shop_us:1001

    def unshipped() -> tuple[str, ...]:
        report = check_alerts(hub, as_of=T, deliver=False)
        return next(alert.records for alert in report.open if alert.rule == "unshipped")

    assert unshipped() == ("order #1002 (2026-03-02 09:30Z)", "order #1003 (2026-03-02 09:30Z)")
    execute(hub, "update marts.fct_shipments set order_id = null")
    assert len(unshipped()) == 3


def test_a_parcel_without_a_scan_for_days_or_sent_back_is_reminded_until_it_moves(hub: HubConfig) -> None:
    """EasyPost's parcel of order 1001, on the way and quiet for six days, is a warning naming the waybill
    and the order; a new scan resolves it; sent back to the shop, it is critical. A parcel shipped before
    stuck_within (30 days) is the carrier's claim, and one nothing tracks is unknown: neither is reminded."""
    write_marts(hub, orders=3)
    now = SHIPPED + timedelta(days=7)

    def stuck(at: datetime = now) -> list[Any]:
        return [alert for alert in check_alerts(hub, as_of=at, deliver=False).open if alert.rule == "stuck_shipment"]

    assert stuck() == []  # delivered
    execute(hub, "update marts.fct_shipments set status = 'in_transit', is_final = false, delivered_at = null, "
                 "last_event_at = shipped_at + interval '1 day', last_event_message = 'Departed USPS facility'")
    [quiet] = stuck()
    assert (quiet.alert_key, quiet.severity) == ("stuck_shipment:ship_easypost", "warning")
    [parcel] = quiet.records
    assert parcel == "USPS 9400100000000000000001, order shop_us:1001: in_transit since 2026-03-04 05:30Z " \
                     "(Departed USPS facility)"
    assert stuck(SHIPPED + timedelta(days=5)) == []  # four quiet days
    assert stuck(SHIPPED + timedelta(days=32)) == []  # shipped over 30 days ago
    execute(hub, "update marts.fct_shipments set tracked_by = null")
    assert stuck() == []  # nothing follows it: where it is is unknown, not stuck
    execute(hub, "update marts.fct_shipments set tracked_by = 'easypost'")
    execute(hub, "update marts.fct_shipments set last_event_at = shipped_at + interval '6 days'")
    assert stuck() == []
    execute(hub, "update marts.fct_shipments set status = 'return_to_sender', is_final = true")
    [returned] = stuck()
    assert returned.severity == "critical" and "return_to_sender" in returned.records[0]


def test_channelhub_alerts_lists_open_ones_and_check_exits_1_when_undelivered(
        hub: HubConfig, receiver: Receiver, tmp_path: Path) -> None:
    loaded(hub, T, *LOADED, "shop_eu")
    record_pushes(Warehouse(hub.warehouse_url), [
        PushRecord("sync-1", "shop_eu", "CH-0001-M", "1", "11", 5, 2, datetime.now(UTC), "failed", "HTTP 502")])
    receiver.status = 502
    config = str(tmp_path / "channelhub.yml")
    checked = CliRunner().invoke(app, ["alerts", "check", "--config", config])
    assert checked.exit_code == 1, checked.output
    assert "not delivered: warehouse-ding: webhook answered HTTP 502" in checked.output
    listed = CliRunner().invoke(app, ["alerts", "--config", config], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and "stock_push:shop_eu" in listed.output and "CH-0001-M: HTTP 502" in listed.output
