"""The Taobao connector: a declaration on dlt's rest_api plus the gateway SDK's windowed cursor.

Trades follow TOP's documented route: ``taobao.trades.sold.increment.get`` lists what changed in
windows of at most a day (summary fields only), and ``taobao.trade.fullinfo.get`` reads each changed
trade whole, its sub-orders in ``orders``. Refunds are listed in the same windows; items page through
``taobao.items.onsale.get`` and their SKUs come from ``taobao.item.seller.get``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any, ClassVar

from dlt.extract.source import DltSource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from requests import RequestException

from connectors.sdk import Account, CheckResult, Connector, ConnectorKind, Cursor, Stream, quarantining
from connectors.sdk.convert import typed_fields
from connectors.sdk.gateway import GatewayError, LastPageFirstPaginator, utc_converter, windowed_resource
from connectors.sdk.rest import resource_config, rest_source
from connectors.sdk.spec import typed

from .client import PATH, ZONE, call, make_client, root
from .settings import TaobaoSettings
from .stock import TaobaoStockWriter

# TOP stamps ``modified`` to the second; the lag re-reads 30 s in case a change becomes visible to the
# increment API after a later one (its replication delay is not documented).
MODIFIED = Cursor("modified", source_timezone=ZONE, lag=30, dedup_on_boundary=True)
TRADE_TIMES = ("created", "modified", "pay_time", "end_time", "consign_time")
TRADE_MONEY = ("payment", "total_fee", "post_fee", "discount_fee", "adjust_fee")
LINE_MONEY = ("price", "total_fee", "payment", "divide_order_fee")
FULLINFO = ",".join(("tid", "status", "type", "buyer_nick", "seller_nick", *TRADE_TIMES, *TRADE_MONEY, "orders"))
REFUND_FIELDS = "refund_id,tid,oid,num,outer_id,total_fee,refund_fee,status,created,modified"
INCREMENT, REFUNDS = "taobao.trades.sold.increment.get", "taobao.refunds.receive.get"


class TaobaoConnector(Connector[TaobaoSettings]):
    name = "taobao"
    kind = ConnectorKind.CHANNEL
    settings_model = TaobaoSettings
    streams: ClassVar[tuple[Stream, ...]] = (
        Stream("trades", ("tid",), cursor=MODIFIED,
               column_types=typed((TRADE_TIMES, "timestamp"), (TRADE_MONEY, "decimal")),
               description="Trades (taobao.trade.fullinfo.get) with their sub-orders, nested as trades__orders."),
        Stream("refunds", ("refund_id",), cursor=MODIFIED,
               column_types=typed((("created", "modified"), "timestamp"), (("total_fee", "refund_fee"), "decimal")),
               description="Refunds the seller received (taobao.refunds.receive.get), one per sub-order."),
        Stream("items", ("num_iid",), column_types=(("modified", "timestamp"), ("price", "decimal")),
               description="Items on sale, read whole every run."),
        Stream("skus", ("sku_id",), column_types=(("modified", "timestamp"), ("price", "decimal"),
                                                  ("quantity", "bigint")),
               description="SKUs of each item: outer_id is the merchant SKU; quantity the stock Taobao sells."),
    )

    def source(self, account: Account[TaobaoSettings]) -> DltSource:
        settings, name = account.settings, account.name
        client = make_client(settings)
        trades, _, items, skus = self.streams
        window = {"cursor": MODIFIED, "initial_value": settings.start_date, "account": name,
                  "window": timedelta(minutes=settings.window_minutes), "bounds": ("start_modified", "end_modified")}
        listing = {"page_size": settings.page_size}

        def gateway(method: str) -> RESTClient:
            return RESTClient(settings.base_url, auth=client["auth"], session=client["session"],
                              paginator=LastPageFirstPaginator(f"{root(method)}.total_results", settings.page_size))

        changed = windowed_resource(
            gateway(INCREMENT), PATH, {"method": INCREMENT, "fields": "tid,modified", **listing}, **window,
            data_selector=f"{root(INCREMENT)}.trades.trade", key="tid", stream="trades", name="trades_increment",
            convert=utc_converter(name, "trades", ZONE, ("modified",), "tid"))
        received = windowed_resource(
            gateway(REFUNDS), PATH, {"method": REFUNDS, "fields": REFUND_FIELDS, **listing}, **window,
            data_selector=f"{root(REFUNDS)}.refunds.refund", key="refund_id", stream="refunds",
            convert=utc_converter(name, "refunds", ZONE, ("created", "modified"), "refund_id"),
            **self.resource_hints("refunds"))
        trade_times = utc_converter(name, "trades", ZONE, TRADE_TIMES, "tid")
        line_money = typed_fields(name, "trades", [(field, "decimal") for field in LINE_MONEY],
                                  record=lambda line: f"oid {line.get('oid')}", prefix="orders.")

        def trade(record: dict[str, Any]) -> dict[str, Any]:
            record = trade_times(record)
            record["orders"] = [line_money(line) for line in (record.get("orders") or {}).get("order", [])]
            return record

        onsale = PageNumberPaginator(base_page=1, page=1, page_param="page_no", total_path=None)
        return rest_source("taobao", client, [
            changed, received,
            resource_config(replace(trades, cursor=None), {
                "path": PATH, "params": {"method": "taobao.trade.fullinfo.get", "fields": FULLINFO,
                                         "tid": "{resources.trades_increment.tid}"},
                "data_selector": f"{root('taobao.trade.fullinfo.get')}.trade"},
                processing_steps=[{"map": quarantining(trade)}], parallelized=True, account=name),
            resource_config(items, {
                "path": PATH, "paginator": onsale, "data_selector": f"{root('taobao.items.onsale.get')}.items.item",
                "params": {"method": "taobao.items.onsale.get", "page_size": settings.page_size,
                           "fields": "num_iid,title,outer_id,approve_status,price,num,modified"}},
                processing_steps=[{"map": quarantining(utc_converter(name, "items", ZONE, ("modified",), "num_iid"))}], account=name),
            resource_config(skus, {
                "path": PATH, "data_selector": f"{root('taobao.item.seller.get')}.item.skus.sku",
                "params": {"method": "taobao.item.seller.get", "fields": "num_iid,skus",
                           "num_iid": "{resources.items.num_iid}"}},
                include_from_parent=["num_iid"],
                processing_steps=[{"map": quarantining(utc_converter(name, "skus", ZONE, ("modified",), "sku_id"))}], account=name),
        ], max_table_nesting=1)

    def check(self, account: Account[TaobaoSettings]) -> CheckResult:
        """One item of the shop: proves app key, signature and the seller's session at once."""
        try:
            answer = call(make_client(account.settings), "taobao.items.onsale.get", fields="num_iid", page_size=1)
        except GatewayError as exc:
            return CheckResult(False, f"TOP refused the call: {exc} (check app key/secret and the session key)")
        except RequestException as exc:
            return CheckResult(False, f"cannot reach {account.settings.base_url}: {type(exc).__name__}")
        return CheckResult(True, f"{answer.get('total_results', 0)} items on sale",
                           {"items": answer.get("total_results", 0)})

    def stock_writer(self, account: Account[TaobaoSettings]) -> TaobaoStockWriter:
        return TaobaoStockWriter(account.settings)

