"""The Kingdee K3Cloud connector: a declaration on dlt's rest_api. Every stream is one
``ExecuteBillQuery`` of one form, its ``FieldKeys`` declared once with the type each lands as."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from dlt.extract.source import DltSource
from dlt.sources.helpers.rest_client import RESTClient
from requests import RequestException

from connectors.sdk import (
    Account,
    CheckResult,
    Connector,
    ConnectorKind,
    Cursor,
    Stream,
    paginate_checked,
    quarantining,
)
from connectors.sdk.convert import typed_rows, wall_clock
from connectors.sdk.rest import resource_config, rest_source
from connectors.sdk.session import LoginRefused

from .client import QUERY, make_client, raise_for_kingdee_error, response_status
from .settings import KingdeeSettings

SHANGHAI = "Asia/Shanghai"  # the server's zone: K3Cloud writes and filters times in it, without an offset
# FModifyDate is stamped on the application server before the save commits: re-read the last minute.
MODIFIED = Cursor("FModifyDate", source_timezone=SHANGHAI, lag=60, dedup_on_boundary=True)


@dataclass(frozen=True)
class Query:
    """The form a stream reads and its ``FieldKeys`` in answer order, each with the dlt type it lands as."""

    form_id: str
    fields: tuple[tuple[str, str], ...]
    order: str


ORDER_HEADER = (("FID", "bigint"), ("FBillNo", "text"), ("FModifyDate", "timestamp"))
QUERIES = {
    "materials": Query("BD_MATERIAL", (
        ("FMATERIALID", "bigint"), ("FNumber", "text"), ("FName", "text"), ("FSpecification", "text"),
        ("FBaseUnitId.FName", "text"), ("FForbidStatus", "text"), ("FDocumentStatus", "text"),
        ("FCreateDate", "timestamp"), ("FModifyDate", "timestamp")), "FMATERIALID ASC"),
    "inventory": Query("STK_Inventory", (
        ("FID", "text"), ("FMaterialId.FNumber", "text"), ("FMaterialId.FName", "text"), ("FStockId.FNumber", "text"),
        ("FStockId.FName", "text"), ("FStockOrgId.FNumber", "text"), ("FBaseQty", "decimal"),
        ("FBaseAVBQty", "decimal")), "FID ASC"),
    "sale_orders": Query("SAL_SaleOrder", (
        *ORDER_HEADER, ("FDate", "date"), ("FCreateDate", "timestamp"), ("FDocumentStatus", "text"),
        ("FCancelStatus", "text"), ("FCustId.FNumber", "text"), ("FCustId.FName", "text"),
        ("FSaleOrgId.FNumber", "text"), ("FSettleCurrId.FCode", "text"), ("FBillAmount", "decimal"),
        ("FBillTaxAmount", "decimal"), ("FBillAllAmount", "decimal")), "FID ASC"),
    "sale_order_entries": Query("SAL_SaleOrder", (
        *ORDER_HEADER, ("FSaleOrderEntry_FEntryID", "bigint"), ("FSeq", "bigint"), ("FMaterialId.FNumber", "text"),
        ("FQty", "decimal"), ("FPrice", "decimal"), ("FAmount", "decimal")), "FID ASC, FSeq ASC"),
    "customers": Query("BD_Customer", (
        ("FCUSTID", "bigint"), ("FNumber", "text"), ("FName", "text"), ("FTEL", "text"), ("FDocumentStatus", "text"),
        ("FForbidStatus", "text"), ("FCreateDate", "timestamp"), ("FModifyDate", "timestamp")), "FCUSTID ASC"),
}


def _stream(name: str, key: str, description: str, cursor: Cursor | None = MODIFIED) -> Stream:
    types = tuple(field for field in QUERIES[name].fields if field[1] != "text" and field[0] != key)  # keys: NOT NULL
    return Stream(name, (key,), "merge" if cursor else "replace", cursor, description, types)


class KingdeeConnector(Connector[KingdeeSettings]):
    name = "kingdee"
    kind = ConnectorKind.ERP
    settings_model = KingdeeSettings
    streams: ClassVar[tuple[Stream, ...]] = (
        _stream("materials", "FMATERIALID", "Materials (BD_MATERIAL): FNumber is the merchant SKU."),
        replace(_stream("inventory", "FID", "On-hand stock per material and warehouse (STK_Inventory), replaced "
                                            "whole every run: the form has no modification time.", cursor=None),
                not_null=("FBaseQty",)),
        _stream("sale_orders", "FID", "Sales order headers (SAL_SaleOrder), one row per bill."),
        _stream("sale_order_entries", "FSaleOrderEntry_FEntryID",
                "Sales order lines (SAL_SaleOrder's FSaleOrderEntry), read by their bill's FModifyDate."),
        _stream("customers", "FCUSTID", "Customers (BD_Customer)."),
    )

    def source(self, account: Account[KingdeeSettings]) -> DltSource:
        settings = account.settings
        resources = []
        for stream in self.streams:
            query = QUERIES[stream.name]
            data = {"FormId": query.form_id, "FieldKeys": ",".join(key for key, _ in query.fields),
                    "OrderString": query.order, "FilterString": "", "TopRowCount": 0}
            if stream.cursor is not None:
                data["FilterString"] = f"{stream.cursor.field} >= '{{incremental.start_value}}'"
            resources.append(resource_config(stream, {"path": QUERY, "method": "POST", "json": {"data": data},
                                                       "response_actions": [raise_for_kingdee_error]},
                                             initial_value=settings.start_date, convert=lambda when: wall_clock(when, SHANGHAI),
                                             account=account.name))
        source = rest_source("kingdee", make_client(settings), resources)
        for stream in self.streams:  # rows become records before the incremental reads their cursor
            source.resources[stream.name].add_map(quarantining(typed_rows(
                account.name, stream.name, QUERIES[stream.name].fields, SHANGHAI)), insert_at=1)
        return source

    def source_keys(self, account: Account[KingdeeSettings], stream: Stream) -> list[tuple[str]]:
        """Every key of the stream's form, read as one narrow ``ExecuteBillQuery`` (``FieldKeys`` = the key),
        paged as the stream is: for the reconciliation, since bills deleted in Kingdee leave no trace."""
        query, key = QUERIES[stream.name], stream.primary_key[0]
        data = {"FormId": query.form_id, "FieldKeys": key, "OrderString": f"{key} ASC", "FilterString": "",
                "TopRowCount": 0}
        pages = paginate_checked(RESTClient(**make_client(account.settings)), account.name, stream.name, QUERY,
                                 method="POST", json={"data": data}, hooks={"response": [raise_for_kingdee_error]})
        return [(row[0],) for page in pages for row in page]

    def check(self, account: Account[KingdeeSettings]) -> CheckResult:
        """One material number: proves the credentials, the data centre and the user's read access."""
        settings = account.settings
        body = {"data": {"FormId": "BD_MATERIAL", "FieldKeys": "FNumber", "Limit": 1}}
        try:
            client = make_client(settings)
            response = client["session"].post(f"{settings.root}/{QUERY}", json=body, auth=client["auth"])
        except (RequestException, LoginRefused, ValueError) as exc:
            return CheckResult(False, f"cannot read {settings.root}: {type(exc).__name__}: {exc}")
        status = response_status(response) if response.ok else {"Errors": [{"Message": f"HTTP {response.status_code}"}]}
        if status is not None:
            return CheckResult(False, f"K3Cloud at {settings.root} refused: {status['Errors'][0].get('Message')}")
        return CheckResult(True, f"K3Cloud at {settings.root}: data centre {settings.acct_id!r} readable as "
                                 f"{settings.user!r}")
