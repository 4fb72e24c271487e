"""The Kingdee K3Cloud connector against its sandbox: the shared contract, Kingdee's official SDK as the
outside check, the signed headers against that SDK's own signer, the session login, errors inside
HTTP 200, and what lands."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
import sqlalchemy as sa
from k3cloud_webapi_sdk.core import webapi_client
from k3cloud_webapi_sdk.main import K3CloudApiSdk

import transforms
from channelhub.config import HubConfig
from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from connectors.kingdee import connector
from connectors.sdk import signed_headers
from connectors.sdk.http import RESIGN
from connectors.sdk.signed_headers import KingdeeSignedHeaders, kingdee_headers
from sandbox.kingdee import ORDER_ID, SHANGHAI, KingdeeSandbox
from sandbox.kit.kingdee_headers import SignatureRejected, verify
from sandbox.world import World, WorldSpec
from warehouse import Warehouse

ACCT, USER = "66a1b2c3d4e5f6", "channelhub_api"
APP_ID, APP_SECRET = "300001_0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
PASSWORD = "K3-passw0rd"
ACCOUNT = "erp_kd"


class KingdeeEnv(WorldSandboxEnv):
    """Signed headers, as the official SDK; ``password=True`` logs in with the user's password instead."""

    account = ACCOUNT
    primary_stream = "sale_orders"
    primary_key = "fid"
    fault_path = "#SAL_SaleOrder"
    environment: ClassVar[dict[str, str]] = {"TEST_KD_APP_ID": APP_ID, "TEST_KD_APP_SECRET": APP_SECRET,
                                             "TEST_KD_PASSWORD": PASSWORD}

    def __init__(self, tmp_path: Path, records: int, page_size: int, password: bool = False) -> None:
        self.world = World(WorldSpec(orders=records, skus=24, customers=60))
        self.sandbox = KingdeeSandbox(self.world, ACCT, USER, app_id=APP_ID, app_secret=APP_SECRET, password=PASSWORD)
        self.sandbox.retry_after = 0.05
        self.sandbox.serve()
        secrets = ({"password": {"env": "TEST_KD_PASSWORD"}} if password else
                   {"app_id": {"env": "TEST_KD_APP_ID"}, "app_secret": {"env": "TEST_KD_APP_SECRET"}})
        self.config = HubConfig.model_validate({
            "warehouse": {"url": f"duckdb:///{tmp_path}/wh.duckdb"},
            "accounts": {self.account: {
                "connector": "kingdee", "secrets": secrets,
                "settings": {"server_url": f"{self.sandbox.base_url}/k3cloud/", "acct_id": ACCT, "user": USER,
                             "page_size": page_size, "max_wait_seconds": 0.1, "start_date": "2025-01-01T00:00:00Z"},
            }},
        })

    def source_count(self) -> int:
        return len(self.world.orders)

    def fetched(self) -> int:
        return self.sandbox.stats.records_served["SAL_SaleOrder"]


class KingdeeMarts:
    """Checks on the class's load, run on each warehouse's contract class."""

    def test_the_marts_hold_its_stock_and_skus_and_staging_its_orders_to_the_cent(self, env: KingdeeEnv) -> None:
        """The package's own models (connectors/kingdee/models), on the class's load: stock per SKU and
        warehouse in U8's shape and in fct_inventory beside it, the materials as the SKU list of
        dim_products, orders with exact money."""
        transforms.build(env.config, select=["+fct_inventory +dim_products stg_kingdee__sale_order*"])
        with Warehouse(env.config.warehouse_url).engine.connect() as conn:
            columns = [row[0] for row in conn.execute(sa.text(
                "select column_name from information_schema.columns "
                "where table_name = 'stg_kingdee__inventory' order by ordinal_position"))]
            assert columns == ["channel_id", "stock_row_id", "source_code", "warehouse_id", "quantity_on_hand",
                               "quantity_available"]  # stg_yonyou_u8__current_stock's
            record = env.world.stock[5]
            assert conn.execute(sa.text(
                "select quantity_on_hand from staging.stg_kingdee__inventory where "
                f"source_code = '{record.sku.code}' and warehouse_id = '{record.warehouse}'")).scalar_one() == record.quantity
            order = env.world.orders[3]
            assert tuple(conn.execute(sa.text(
                "select o.total_amount, o.ordered_at, count(*), sum(l.line_amount) from staging.stg_kingdee__sale_orders o "
                "join staging.stg_kingdee__sale_order_lines l using (order_id) "
                f"where o.source_order_id = '{ORDER_ID + order.id % 10**9}' group by o.total_amount, o.ordered_at")).one()) == (
                order.total, order.created_at, len(order.lines), order.subtotal)
            stock = env.world.stock
            assert tuple(conn.execute(sa.text(
                "select count(*), count(product_id), sum(quantity_on_hand), min(source) from marts.fct_inventory "
                f"where channel_id = '{env.account}'")).one()) == (
                len({(r.sku.code, r.warehouse) for r in stock}),) * 2 + (sum(r.quantity for r in stock), "erp")
            assert tuple(conn.execute(sa.text("select count(*), count(product_name) from marts.dim_products")).one()) == (
                len(env.world.skus),) * 2


class TestKingdeeContract(KingdeeMarts, ConnectorContract):
    env_class = KingdeeEnv


class TestKingdeeOnPostgres(KingdeeMarts, PostgresParity):
    env_class = KingdeeEnv


@pytest.fixture
def erp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Any:
    """A small data centre of its own, for the tests below the contract (indirect param True: password mode)."""
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    for variable, value in KingdeeEnv.environment.items():
        monkeypatch.setenv(variable, value)
    env = KingdeeEnv(tmp_path, 120, 50, password=getattr(request, "param", False))
    yield env
    env.close()


def official_sdk(env: KingdeeEnv, app_secret: str = APP_SECRET) -> K3CloudApiSdk:
    server_url = f"{env.sandbox.base_url}/k3cloud/"
    sdk = K3CloudApiSdk(server_url)
    sdk.InitConfig(ACCT, USER, APP_ID, app_secret, server_url)
    return sdk


def test_signed_headers_equal_the_official_sdks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kingdee publishes no signature example, so the golden vector is the official SDK's own signer
    (kingdee-cdp-webapi-sdk ``WebApiClient.BuildHeader``, an independent implementation) on the same inputs:
    the app id of the SDK's published sample, a fixed clock."""
    sample_app_id, url = "204399_72epSbtEQMC92Vwt2d3LRa9LRqSc1tqJ", "http://erp.example.com/k3cloud/"
    monkeypatch.setattr(webapi_client.time, "time", lambda: 1767225600.25)
    sdk = K3CloudApiSdk(url)
    sdk.InitConfig("5db25ac8d2b819", "webapi", sample_app_id, "fb7d46647ac346dbb5fcd45b65512a45", url, org_num=3)
    path = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery.common.kdsvc"
    theirs = {k: v for k, v in sdk.BuildHeader(f"http://erp.example.com{path}").items()
              if k.lower().startswith(("x-api", "x-kd"))}
    ours = kingdee_headers(path, acct_id="5db25ac8d2b819", user="webapi", app_id=sample_app_id,
                           app_secret="fb7d46647ac346dbb5fcd45b65512a45", org_num=3, timestamp=1767225600)
    assert ours == theirs
    assert ours["X-Api-ClientID"] == "204399" and ours["x-api-nonce"] == ours["x-api-timestamp"] == "1767225600"


def test_a_resend_is_signed_at_the_time_of_the_resend_and_the_sandbox_verifies_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    auth = KingdeeSignedHeaders(acct_id=ACCT, user=USER, app_id=APP_ID, app_secret=APP_SECRET)
    path = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery.common.kdsvc"
    request = requests.Request("POST", f"http://127.0.0.1:1{path}", json={"data": {}}).prepare()
    monkeypatch.setattr(signed_headers.time, "time", lambda: 1_767_225_600.0)
    auth(request)
    monkeypatch.setattr(signed_headers.time, "time", lambda: 1_767_225_630.0)
    getattr(request, RESIGN)(request)
    assert request.headers["x-api-timestamp"] == request.headers["x-api-nonce"] == "1767225630"
    assert verify(request.headers, path, {APP_ID: APP_SECRET}, now=1_767_225_631).user == USER
    with pytest.raises(SignatureRejected, match="X-Kd-Signature"):
        verify(request.headers, path, {APP_ID: "another secret"}, now=1_767_225_631)


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
    with Warehouse(erp.config.warehouse_url).engine.connect() as conn:
        modified, day, total, currency = conn.execute(sa.text(
            "select f_modify_date, f_date, f_bill_all_amount, f_settle_curr_id_f_code from raw_erp_kd.sale_orders "
            f"where fid = {ORDER_ID + order.id % 10**9}")).one()
        assert modified == order.updated_at and modified.utcoffset() is not None
        assert day == order.created_at.astimezone(SHANGHAI).date() and isinstance(day, date)
        assert isinstance(total, Decimal) and (total, currency) == (order.total, order.currency)
        amounts = conn.execute(sa.text(f"select f_amount from raw_erp_kd.sale_order_entries "
                                       f"where fid = {ORDER_ID + order.id % 10**9}"))
        assert sorted(row[0] for row in amounts) == sorted(line.amount for line in order.lines)
        on_hand = conn.execute(sa.text("select sum(f_base_qty) from raw_erp_kd.inventory")).scalar_one()
        assert on_hand == sum(record.quantity for record in erp.world.stock)


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
    with Warehouse(erp.config.warehouse_url).engine.connect() as conn:
        on_hand = conn.execute(sa.text("select sum(f_base_qty), count(*) from raw_erp_kd.inventory")).one()
    assert on_hand == (sum(record.quantity for record in erp.world.stock), 48)


@pytest.mark.parametrize("erp", [True], indirect=True)
def test_a_lost_session_logs_in_again_once(erp: KingdeeEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """Password mode: one login for a whole run; after the server forgot the session (MsgCode 1 in a 200)
    one new login and the run goes on; a wrong password fails naming user and data centre, not the secret."""
    run_account(erp.config, ACCOUNT)
    assert erp.sandbox.logins == 1
    erp.sandbox.expire_sessions()
    touched = erp.world.touch_orders(0.1)
    assert run_account(erp.config, ACCOUNT).rows["sale_orders"] >= len(touched) and erp.sandbox.logins == 2
    monkeypatch.setenv("TEST_KD_PASSWORD", "wrong-Pa55")
    with pytest.raises(RunFailed) as failure:
        run_account(erp.config, ACCOUNT)
    assert "LoginRefused" in str(failure.value) and f"user {USER!r} to data centre {ACCT!r}" in str(failure.value)
    assert "wrong-Pa55" not in str(failure.value)


def test_an_error_inside_http_200_names_the_form_and_the_field(erp: KingdeeEnv,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment without a field the connector asks for answers MsgCode 9 inside a 200 answer; the
    health check reads a refused signature (MsgCode 1) the same way; a value of the wrong type names its
    record and field."""
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
    with pytest.raises(RunFailed) as failure:
        run_account(erp.config, ACCOUNT)
    assert "stream 'materials', record FMATERIALID 100004, field 'FModifyDate'" in str(failure.value)
