"""The Kingdee K3Cloud connector against its sandbox: the shared contract, Kingdee's official SDK as the
outside check, the session login, errors inside HTTP 200, and what lands. (The signed headers against
that SDK's own signer: test_sdk_signing.py, with the SDK's other signing families.)"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from k3cloud_webapi_sdk.main import K3CloudApiSdk

from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from channelhub.testing.checks import check_stock_marts
from connectors.kingdee import connector
from sandbox.kingdee import ORDER_ID, SHANGHAI, KingdeeSandbox
from sandbox.world import World, WorldSpec

ACCT, USER = "66a1b2c3d4e5f6", "channelhub_api"
APP_ID, APP_SECRET = "300001_0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
PASSWORD = "K3-passw0rd"
ACCOUNT = "erp_kd"


class KingdeeEnv(WorldSandboxEnv):
    """Signed headers, as the official SDK; ``password=True`` logs in with the user's password instead."""

    account, connector = ACCOUNT, "kingdee"
    primary_stream = "sale_orders"
    primary_key = "fid"
    fault_path = "#SAL_SaleOrder"
    marts = "+fct_inventory +dim_products"
    environment: ClassVar[dict[str, str]] = {"TEST_KD_APP_ID": APP_ID, "TEST_KD_APP_SECRET": APP_SECRET,
                                             "TEST_KD_PASSWORD": PASSWORD}

    def __init__(self, tmp_path: Path, records: int = 120, page_size: int = 50, password: bool = False) -> None:
        self.world = World(WorldSpec(orders=records, skus=24, customers=60))
        self.sandbox = KingdeeSandbox(self.world, ACCT, USER, app_id=APP_ID, app_secret=APP_SECRET, password=PASSWORD)
        self.sandbox.retry_after = 0.05
        self.sandbox.serve()
        self.configure(tmp_path, {"server_url": f"{self.sandbox.base_url}/k3cloud/", "acct_id": ACCT, "user": USER,
                                  "page_size": page_size, "start_date": "2025-01-01T00:00:00Z"},
                       {"password": "TEST_KD_PASSWORD"} if password else
                       {"app_id": "TEST_KD_APP_ID", "app_secret": "TEST_KD_APP_SECRET"})

    def source_count(self) -> int:
        return len(self.world.orders)

    def fetched(self) -> int:
        return self.sandbox.stats.records_served["SAL_SaleOrder"]


class KingdeeMarts:
    """Checks on the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: KingdeeEnv) -> None:
        """The package's own models (connectors/kingdee/models), on the class's load: stock per SKU and
        warehouse in U8's shape and in fct_inventory beside it, the materials as the SKU list of
        dim_products, orders with exact money."""
        assert [column for (column,) in env.rows(
            "select column_name from information_schema.columns where table_name = 'stg_kingdee__inventory' "
            "order by ordinal_position")] == ["channel_id", "stock_row_id", "source_code", "warehouse_id",
                                              "quantity_on_hand", "quantity_available"]  # stg_yonyou_u8__current_stock's
        record = env.world.stock[5]
        assert env.one("select quantity_on_hand from staging.stg_kingdee__inventory where "
                       f"source_code = '{record.sku.code}' and warehouse_id = '{record.warehouse}'") == (record.quantity,)
        order = env.world.orders[3]
        assert env.one(
            "select o.total_amount, o.ordered_at, count(*), sum(l.line_amount) from staging.stg_kingdee__sale_orders o "
            "join staging.stg_kingdee__sale_order_lines l using (order_id) "
            f"where o.source_order_id = '{ORDER_ID + order.id % 10**9}' group by o.total_amount, o.ordered_at") == (
            order.total, order.created_at, len(order.lines), order.subtotal)
        check_stock_marts(env, env.world.stock)
        assert env.one("select count(*), count(product_name) from marts.dim_products") == (len(env.world.skus),) * 2


class TestKingdeeContract(KingdeeMarts, ConnectorContract):
    env_class = KingdeeEnv


class TestKingdeeOnPostgres(KingdeeMarts, PostgresParity):
    env_class = KingdeeEnv


@pytest.fixture
def erp(make_env: Any, request: pytest.FixtureRequest) -> KingdeeEnv:
    """A small data centre of its own, for the tests below the contract (indirect param True: password mode)."""
    return make_env(KingdeeEnv, password=getattr(request, "param", False))


def official_sdk(env: KingdeeEnv, app_secret: str = APP_SECRET) -> K3CloudApiSdk:
    server_url = f"{env.sandbox.base_url}/k3cloud/"
    sdk = K3CloudApiSdk(server_url)
    sdk.InitConfig(ACCT, USER, APP_ID, app_secret, server_url)
    return sdk


def test_the_official_sdk_queries_in_every_form_and_a_wrong_secret_is_refused(erp: KingdeeEnv) -> None:
    """Kingdee's own Python SDK (signed headers) against the sandbox: the query as a dict and as the JSON
    string many callers pass, paged; BillQuery's objects; a wrong app secret answers MsgCode 1 in a 200."""
    sdk = official_sdk(erp)
    query = {"FormId": "SAL_SaleOrder", "FieldKeys": "FBillNo,FModifyDate,FBillAllAmount", "OrderString": "FID ASC",
             "FilterString": "FDocumentStatus = 'C' and FCancelStatus <> 'X'", "StartRow": 100, "Limit": 50}
    rows = json.loads(sdk.ExecuteBillQuery(query))
    assert len(rows) == 20 and rows == json.loads(sdk.ExecuteBillQuery(json.dumps(query)))
    order = sorted(erp.world.orders, key=lambda o: o.id)[100]
    local = order.updated_at.astimezone(SHANGHAI).replace(tzinfo=None).isoformat()
    assert rows[0] == [f"XSDD{order.id % 10**9:06d}", local, float(order.total)]
    stock = json.loads(sdk.BillQuery({"FormId": "STK_Inventory", "FieldKeys": "FMaterialId.FNumber,FBaseQty",
                                      "FilterString": "FStockId.FNumber = '01'", "TopRowCount": 5, "Limit": 100}))
    assert len(stock) == 5 and stock[0] == {"FMaterialId.FNumber": "CH-0000-S",
                                            "FBaseQty": erp.world.stock[0].quantity}
    refused = json.loads(official_sdk(erp, "wrong").ExecuteBillQuery(query))
    assert refused[0][0]["Result"]["ResponseStatus"]["MsgCode"] == 1


def test_records_land_in_utc_with_exact_decimals_and_their_lines(erp: KingdeeEnv) -> None:
    report = run_account(erp.config, ACCOUNT)
    lines = sum(len(o.lines) for o in erp.world.orders)
    assert report.rows == {"customers": 60, "inventory": 48, "materials": 24, "sale_order_entries": lines,
                           "sale_orders": 120}
    order = erp.world.orders[7]
    modified, day, total, currency = erp.one(
        "select f_modify_date, f_date, f_bill_all_amount, f_settle_curr_id_f_code from raw_erp_kd.sale_orders "
        f"where fid = {ORDER_ID + order.id % 10**9}")
    assert modified == order.updated_at and modified.utcoffset() is not None
    assert day == order.created_at.astimezone(SHANGHAI).date() and isinstance(day, date)
    assert isinstance(total, Decimal) and (total, currency) == (order.total, order.currency)
    amounts = erp.rows(f"select f_amount from raw_erp_kd.sale_order_entries where fid = {ORDER_ID + order.id % 10**9}")
    assert sorted(amount for (amount,) in amounts) == sorted(line.amount for line in order.lines)
    assert erp.one("select sum(f_base_qty) from raw_erp_kd.inventory") == (sum(r.quantity for r in erp.world.stock),)


@pytest.mark.reliability
def test_a_bill_deleted_in_kingdee_leaves_the_warehouse_with_the_reconciliation(erp: KingdeeEnv) -> None:
    """A sales order deleted in Kingdee (no trace left) leaves raw with its lines at the reconciliation."""
    run_account(erp.config, ACCOUNT)
    gone = erp.world.orders.pop(11)
    erp.world.tick()
    fid = ORDER_ID + gone.id % 10**9
    run_account(erp.config, ACCOUNT, reconcile=False)
    assert erp.rows(f"select count(*) from raw_erp_kd.sale_orders where fid = {fid}") == [(1,)]  # no trace of it
    report = run_account(erp.config, ACCOUNT, reconcile=True)
    assert erp.rows(f"select count(*) from raw_erp_kd.sale_orders where fid = {fid}") == [(0,)]
    assert erp.rows(f"select count(*) from raw_erp_kd.sale_order_entries where fid = {fid}") == [(0,)]
    notes = dict(erp.rows(f"select stream, note from ops.run_log where run_id = '{report.run_id}' and note is not null"))
    assert notes == {"sale_orders": "reconciled: 1 deleted at the source", "customers": "reconciled: 0 deleted at "
                     "the source", "sale_order_entries": f"reconciled: {len(gone.lines)} deleted at the source",
                     "materials": "reconciled: 0 deleted at the source"}  # inventory is replaced whole anyway


def test_an_incremental_run_filters_on_server_time_and_inventory_is_replaced(erp: KingdeeEnv) -> None:
    run_account(erp.config, ACCOUNT)
    newest = max(o.updated_at for o in erp.world.orders)
    touched = erp.world.touch_orders(0.1)
    erp.world.change_stock(0.5)
    report = run_account(erp.config, ACCOUNT)
    assert len(touched) <= report.rows["sale_orders"] <= len(touched) + 1 and report.rows["inventory"] == 48
    asked = [q for q in erp.sandbox.queries if q["formid"] == "SAL_SaleOrder"][-1]["filterstring"]
    since = (newest.astimezone(SHANGHAI) - (datetime(2026, 1, 1, 0, 1) - datetime(2026, 1, 1))).replace(tzinfo=None)
    assert asked == f"FModifyDate >= '{since:%Y-%m-%d %H:%M:%S}'"  # Shanghai wall time, the cursor's lag before
    assert erp.one("select sum(f_base_qty), count(*) from raw_erp_kd.inventory") == (
        sum(record.quantity for record in erp.world.stock), 48)


@pytest.mark.parametrize("erp", [True], indirect=True)
def test_a_lost_session_logs_in_again_once(erp: KingdeeEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """Password mode: one login for a whole run; after the server forgot the session (MsgCode 1 in a 200)
    one new login and the run goes on; a wrong password fails naming user and data centre, not the secret."""
    run_account(erp.config, ACCOUNT)
    assert erp.sandbox.sessions.logins == 1
    erp.sandbox.sessions.expire()
    touched = erp.world.touch_orders(0.1)
    assert run_account(erp.config, ACCOUNT).rows["sale_orders"] >= len(touched) and erp.sandbox.sessions.logins == 2
    monkeypatch.setenv("TEST_KD_PASSWORD", "wrong-Pa55")
    with pytest.raises(RunFailed) as failure:
        run_account(erp.config, ACCOUNT)
    assert "LoginRefused" in str(failure.value) and f"user {USER!r} to data centre {ACCT!r}" in str(failure.value)
    assert "wrong-Pa55" not in str(failure.value)


def test_an_error_inside_http_200_names_the_form_and_the_field(erp: KingdeeEnv,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment without a field the connector asks for answers MsgCode 9 inside a 200 answer; the
    health check reads a refused signature (MsgCode 1) the same way; a value of the wrong type quarantines
    its record, naming the field."""
    assert connector.check(erp.config.account(ACCOUNT)).ok
    monkeypatch.setenv("TEST_KD_APP_SECRET", "wrong")
    refused = connector.check(erp.config.account(ACCOUNT))
    assert not refused.ok and "会话信息已丢失" in refused.detail
    monkeypatch.setenv("TEST_KD_APP_SECRET", APP_SECRET)
    available = erp.sandbox.forms["STK_Inventory"].fields.pop("fbaseavbqty")
    with pytest.raises(RunFailed) as failure:
        run_account(erp.config, ACCOUNT)
    message = str(failure.value)
    assert "'inventory'" in message and "'STK_Inventory'" in message and "'FBaseAVBQty'" in message, message
    assert "MsgCode 9" in message

    erp.sandbox.forms["STK_Inventory"].fields["fbaseavbqty"] = available
    erp.sandbox.forms["BD_MATERIAL"].fields["fmodifydate"] = lambda sku, _: "yesterday" if sku.index == 3 else None
    report = run_account(erp.config, ACCOUNT)
    assert report.quarantined == {"materials": 1}
    assert erp.rows(f"select record_key, field, reason from ops.quarantine where run_id = '{report.run_id}'") == [
        ("FMATERIALID 100004", "FModifyDate", "timestamp expected, got 'yesterday'")]
