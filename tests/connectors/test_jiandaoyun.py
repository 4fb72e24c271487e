"""The Jiandaoyun connector against its sandbox: the shared contract, an outside check in the request shape of
Jiandaoyun's official api-demo (no public Python client exists: plain ``requests``), the mapping by widget
label, typed widget values, and the stock write-back as the sandbox received it."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
from pydantic import ValidationError

from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from channelhub.testing.checks import check_stock_marts
from connectors.jiandaoyun import JiandaoyunSettings, connector
from connectors.sdk import MIRROR_FIGURES, StockLevel
from sandbox.jiandaoyun import APP_ID, ENTRY_IDS, JiandaoyunSandbox
from sandbox.kit import Bucket
from sandbox.world import World, WorldSpec
from sandbox.world.channels import ShopSpec

API_KEY = "jdy-test-0123456789abcdef"
ACCOUNT = "erp_jdy"
FORMS = {"products": "商品", "stock": "库存", "customers": "客户", "sales_outbound": "销售出库单"}
SHOP = ShopSpec(ACCOUNT, "CNY", "Asia/Shanghai", marketplace=True)  # the offline sales booked in Jiandaoyun


class JiandaoyunEnv(WorldSandboxEnv):
    account, connector = ACCOUNT, "jiandaoyun"
    primary_stream = "sales_outbound"
    primary_key = "data_id"
    fault_path = f"data/list#{ENTRY_IDS['销售出库单']}"  # the pages, not the widget list before them
    marts = "+fct_inventory +dim_products"  # the orders roles are checked on their int_ models: fct_orders costs seconds
    environment: ClassVar[dict[str, str]] = {"TEST_JDY_API_KEY": API_KEY}

    def __init__(self, tmp_path: Path, records: int = 120, page_size: int = 50, **settings: Any) -> None:
        self.world = World(WorldSpec(orders=records, skus=24, customers=60, shops=(SHOP,)))
        self.sandbox = JiandaoyunSandbox(self.world, API_KEY, ACCOUNT)
        self.sandbox.serve()
        self.configure(tmp_path, {
            "base_url": self.sandbox.base_url, "app_id": APP_ID, "page_size": page_size,
            "start_date": "2025-01-01T00:00:00Z", "stock_writeback": {"entry_id": ENTRY_IDS["可售库存"]},
            "forms": {entity: {"entry_id": ENTRY_IDS[form]} for entity, form in FORMS.items()}, **settings},
            {"api_key": "TEST_JDY_API_KEY"})

    def fetched(self) -> int:
        return self.sandbox.stats.records_served["销售出库单"]


class JiandaoyunMarts:
    def check_marts(self, env: JiandaoyunEnv) -> None:
        """The package's models on the class's load: the 库存 form's stock in fct_inventory as the ERP's,
        the 商品 form as the SKU list of dim_products, documents as orders (their total = lines + freight -
        discount) with exact money and their lines."""
        check_stock_marts(env, env.world.stock)
        assert env.one("select count(*), count(product_name) from marts.dim_products") == (len(env.world.skus),) * 2
        orders = env.world.orders
        assert env.one("select count(*), sum(total_amount), sum(subtotal_amount + shipping_amount - discount_amount), "
                       "sum(item_quantity), min(currency), max(currency) from intermediate.int_jiandaoyun__orders "
                       f"where channel_id = '{env.account}'") == (
            len(orders), sum(o.total for o in orders), sum(o.total for o in orders),
            sum(line.quantity for o in orders for line in o.lines), "CNY", "CNY")
        lines = [line for o in orders for line in o.lines]
        assert env.one("select count(*), count(distinct source_sku), sum(line_amount) from intermediate.int_jiandaoyun__order_lines "
                       f"where channel_id = '{env.account}'") == (
            len(lines), len({line.sku.code for line in lines}), sum(line.amount for line in lines))
        order = sorted(orders, key=lambda o: o.id)[3]
        assert env.one(
            "select d.total_amount, d.currency, count(*), sum(l.line_amount) from staging.stg_jiandaoyun__outbound_documents d "
            "join staging.stg_jiandaoyun__outbound_lines l using (order_id) "
            f"where d.order_number = 'XSCK{order.id % 10**9:06d}' group by d.total_amount, d.currency") == (
            order.total, order.currency, len(order.lines), order.subtotal)


class TestJiandaoyunContract(JiandaoyunMarts, ConnectorContract):
    env_class = JiandaoyunEnv


class TestJiandaoyunOnPostgres(JiandaoyunMarts, PostgresParity):
    env_class = JiandaoyunEnv


@pytest.fixture
def erp(make_env: Any) -> JiandaoyunEnv:
    return make_env(JiandaoyunEnv, records=40)


def api_demo_post(env: JiandaoyunEnv, call: str, body: dict[str, Any], key: str = API_KEY) -> requests.Response:
    """A request as jiandaoyun/api-demo sends it: POST, JSON in UTF-8, the key as a Bearer token."""
    return requests.post(f"{env.sandbox.base_url}/api/v5/app/entry/{call}", json=body, timeout=10,
                         headers={"Authorization": f"Bearer {key}", "Content-type": "application/json;charset=utf-8"})


def test_the_api_demo_request_shape_pages_on_data_id_and_errors_are_http_400(erp: JiandaoyunEnv) -> None:
    """Outside check (no public Python client: the official api-demo's request shape with requests):
    widgets by label, every record once paging on the last _id, a limit over 100 and a wrong key refused
    with HTTP 400 and a code, data/list's 30/s spent answered 8303."""
    form = {"app_id": APP_ID, "entry_id": ENTRY_IDS["销售出库单"]}
    widgets = api_demo_post(erp, "widget/list", form).json()["widgets"]
    number = next(w["name"] for w in widgets if w["label"] == "出库单号")
    seen, data_id = [], None
    while True:
        page = api_demo_post(erp, "data/list", {**form, "limit": 15, "data_id": data_id, "fields": [number]}).json()["data"]
        seen += [record[number] for record in page]
        if len(page) < 15:
            break
        data_id = page[-1]["_id"]
    assert sorted(seen) == sorted(f"XSCK{o.id % 10**9:06d}" for o in erp.world.orders)
    assert (api_demo_post(erp, "data/list", {**form, "limit": 101}).status_code, ) == (400,)
    refused = api_demo_post(erp, "data/list", form, key="wrong")
    assert refused.status_code == 400 and refused.json()["code"] == 8301
    limit = erp.sandbox.buckets["data/list"]
    assert (limit.size, limit.rate) == (30, 30)  # data/list: 30 a second per key
    erp.sandbox.buckets["data/list"] = Bucket(30, 1e-6, available=0)  # spent, as after 30 calls within a second
    throttled = api_demo_post(erp, "data/list", form)
    assert (throttled.status_code, throttled.json()) == (400, {"code": 8303, "msg": "超出请求频率限制"})


def test_widgets_land_typed_under_their_mapped_columns(erp: JiandaoyunEnv) -> None:
    """Numbers as exact decimals, dates in UTC, members by username, departments by name, the subform as
    a child table carrying its document's data_id; the incremental filter is updateTime's range."""
    report = run_account(erp.config, ACCOUNT)
    assert report.rows == {"products": 24, "stock": 48, "customers": 60, "sales_outbound": 40}
    order = sorted(erp.world.orders, key=lambda o: o.id)[5]
    data_id, shipped, total, handler, department = erp.one(
        "select data_id, shipped_at, total, handler, department from raw_erp_jdy.sales_outbound "
        f"where number = 'XSCK{order.id % 10**9:06d}'")
    assert (shipped, total, handler, department) == (order.created_at, order.total, "xiaojian", "销售部")
    assert isinstance(total, Decimal) and shipped.utcoffset() == timedelta(0)
    lines = erp.rows(f"select sku, quantity, amount from raw_erp_jdy.sales_outbound__lines where data_id = '{data_id}'")
    assert sorted(lines) == sorted((line.sku.code, line.quantity, line.amount) for line in order.lines)
    assert erp.one("select sum(quantity) from raw_erp_jdy.stock") == (sum(r.quantity for r in erp.world.stock),)

    newest = max(o.updated_at for o in erp.world.orders)
    erp.world.touch_orders(0.1)
    run_account(erp.config, ACCOUNT)
    sent = [b for b in erp.sandbox.bodies if b["entry_id"] == ENTRY_IDS["销售出库单"]][-1]["filter"]["cond"][0]
    since = (newest - timedelta(seconds=60)).astimezone(UTC)
    assert sent == {"field": "updateTime", "type": "datetime", "method": "range",
                    "value": [since.strftime("%Y-%m-%dT%H:%M:%S.000Z"), None]}


@pytest.mark.reliability
def test_a_document_deleted_in_jiandaoyun_leaves_with_its_lines_at_the_reconciliation(erp: JiandaoyunEnv) -> None:
    """A 销售出库单 deleted in Jiandaoyun (data/list no longer shows it) leaves raw, lines included, when the
    reconciliation lists the form's ids."""
    run_account(erp.config, ACCOUNT)
    gone = erp.world.orders.pop(7)
    number = f"XSCK{gone.id % 10**9:06d}"
    (data_id,) = erp.one(f"select data_id from raw_erp_jdy.sales_outbound where number = '{number}'")
    run_account(erp.config, ACCOUNT, reconcile=False)
    assert erp.one(f"select count(*) from raw_erp_jdy.sales_outbound__lines where data_id = '{data_id}'") == (
        len(gone.lines),)
    report = run_account(erp.config, ACCOUNT, reconcile=True)
    assert erp.one(f"select count(*) from raw_erp_jdy.sales_outbound where data_id = '{data_id}'") == (0,)
    assert erp.one(f"select count(*) from raw_erp_jdy.sales_outbound__lines where data_id = '{data_id}'") == (0,)
    notes = dict(erp.rows(f"select stream, note from ops.run_log where run_id = '{report.run_id}' and note is not null"))
    assert notes["sales_outbound"] == "reconciled: 1 deleted at the source", notes


def test_the_mapping_is_validated_and_a_label_the_form_lacks_is_named(erp: JiandaoyunEnv, tmp_path: Path) -> None:
    """Settings name unknown entities and fields with what exists; a label the form lacks fails the check
    and the run naming the form and the label; a widget given by its name instead of its label works."""
    base = {"app_id": APP_ID, "api_key": "k", "forms": {"goods": {"entry_id": "x"}}}
    with pytest.raises(ValidationError, match="unknown entity 'goods'"):
        JiandaoyunSettings.model_validate(base)
    with pytest.raises(ValidationError, match=r"forms.stock.fields: unknown field\(s\) 'qty' of the 库存 form"):
        JiandaoyunSettings.model_validate({**base, "forms": {"stock": {"entry_id": "x", "fields": {"qty": "数量"}}}})

    renamed = make_renamed(erp, tmp_path, {"quantity": "现存量"})
    result = connector.check(renamed.config.account(ACCOUNT))
    assert not result.ok and "库存 form" in result.detail and "quantity -> '现存量'" in result.detail, result.detail
    with pytest.raises(RunFailed, match="现存量"):
        run_account(renamed.config, ACCOUNT)
    by_name = make_renamed(erp, tmp_path, {"quantity": erp.sandbox.forms[ENTRY_IDS["库存"]].name_of("库存数量")})
    assert run_account(by_name.config, ACCOUNT).rows["stock"] == 48


def make_renamed(erp: JiandaoyunEnv, tmp_path: Path, stock_fields: dict[str, str]) -> JiandaoyunEnv:
    """The env's account with the stock form's fields mapped otherwise."""
    forms = {entity: {"entry_id": ENTRY_IDS[form]} for entity, form in FORMS.items()}
    forms["stock"]["fields"] = stock_fields
    erp.configure(tmp_path, {"base_url": erp.sandbox.base_url, "app_id": APP_ID, "forms": forms,
                             "start_date": "2025-01-01T00:00:00Z"}, {"api_key": "TEST_JDY_API_KEY"})
    return erp


def test_a_value_its_widget_kind_cannot_hold_is_quarantined_naming_label_and_widget(erp: JiandaoyunEnv) -> None:
    form = erp.sandbox.forms[ENTRY_IDS["商品"]]
    price = form.name_of("销售单价")
    shipped = form.records
    form.records = lambda: [(i, c, u, {**v, price: "面议"} if n == 2 else v) for n, (i, c, u, v) in enumerate(shipped())]
    report = run_account(erp.config, ACCOUNT)
    assert report.quarantined == {"products": 1} and report.rows["products"] == 23
    assert erp.one(f"select field, reason from ops.quarantine where run_id = '{report.run_id}'") == (
        f"销售单价 ({price})", "decimal expected, got '面议'")


def test_mirror_levels_are_written_to_the_configured_form_once(erp: JiandaoyunEnv) -> None:
    """One record per SKU and channel holding its figures: missing records are created in one batch_create,
    changed figures updated with batch_update per distinct set of values, each with a transaction_id; a
    figure changed in the form since is stale; a second push writes nothing; a replayed transaction is not
    applied twice."""
    writer = connector.mirror_writer(erp.config.account(ACCOUNT))
    skus = erp.world.skus[:6]
    levels = [StockLevel(sku.code, "shop_us", figure, 10 + sku.index % 3 + n)
              for sku in skus for n, figure in enumerate(MIRROR_FIGURES)]
    assert all(result.ok for result in writer.push(levels, reference="sync-1"))
    assert [sorted(w) for w in erp.sandbox.writes] == [["app_id", "data_list", "entry_id", "is_start_workflow",
                                                        "transaction_id"]]
    form = erp.sandbox.forms[ENTRY_IDS["可售库存"]]
    widgets = {label: form.name_of(label) for label in ("商品编号", "渠道", "可售数量", "在库数量", "可承诺数量")}

    def held() -> dict[tuple[str, str], tuple[int, int, int]]:
        return {(v[widgets["商品编号"]], v[widgets["渠道"]]): (v[widgets["可售数量"]], v[widgets["在库数量"]],
                                                          v[widgets["可承诺数量"]]) for _, _, _, v in form.stored.values()}

    assert held() == {(sku.code, "shop_us"): (10 + sku.index % 3, 11 + sku.index % 3, 12 + sku.index % 3) for sku in skus}

    data_id = next(i for i, (_, _, _, v) in form.stored.items() if v[widgets["商品编号"]] == skus[0].code)
    form.stored[data_id][3][widgets["可售数量"]] = 3  # someone edited the form since
    moved = [StockLevel(sku.code, "shop_us", "allocated", 20, expected=10 + sku.index % 3) for sku in skus]
    results = writer.push(moved, reference="sync-2")
    assert (results[0].ok, results[0].stale, results[0].actual) == (False, True, 3)
    assert all(r.ok and r.actual == 20 for r in results[1:])
    assert len(erp.sandbox.writes) == 2 and erp.sandbox.writes[-1]["data"] == {widgets["可售数量"]: {"value": 20}}
    again = writer.push(moved[1:], reference="sync-3")
    assert all(r.ok and r.detail == "already at the target" for r in again) and len(erp.sandbox.writes) == 2
    replayed = api_demo_post(erp, "data/batch_update", erp.sandbox.writes[-1])
    assert replayed.headers.get("Idempotent-Replayed") == "true" and len(erp.sandbox.writes) == 2
    with pytest.raises(ValueError, match="figures"):
        writer.push([StockLevel(skus[0].code, "shop_us", "reserved", 1)])
