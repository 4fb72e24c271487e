"""The SAP Business One connector: a declaration on dlt's rest_api over the Service Layer (OData v4).
Every stream is one entity read with ``$select`` (its fields declared once with the type each lands
as), ``$filter`` and ``$orderby``, paged by ``@odata.nextLink``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from dlt.extract.hints import make_nested_hints
from dlt.extract.source import DltSource
from requests import RequestException

from connectors.sdk import (
    Account,
    CheckResult,
    Connector,
    ConnectorKind,
    Cursor,
    SourceDataError,
    Stream,
    quarantining,
)
from connectors.sdk.convert import typed_fields
from connectors.sdk.rest import resource_config, rest_source
from connectors.sdk.session import LoginRefused

from .client import make_client, raise_for_sap_error, sap_message
from .settings import SapB1Settings

# UpdateDate + UpdateTime, the company's wall clock, read as one UTC time (``updated_at``, built in the
# conversion). The Service Layer stamps them when the save starts, before it commits: re-read 5 minutes.
UPDATED = "updated_at"
MODIFIED = Cursor(UPDATED, source_timezone="the account's timezone setting", lag=300, dedup_on_boundary=True)
STAMPS = (("UpdateDate", "text"), ("UpdateTime", "text"), (UPDATED, "timestamp"))
# The two fields compared as one instant: a later day, or the same day from the time on. (``UpdateDate ge
# D and UpdateTime ge T`` would skip every later day's changes made before T.) The cursor's start, on the
# company's wall clock, fills the placeholders; the incremental then drops what is older on the client.
CHANGED_SINCE = ("(UpdateDate gt '{incremental.start_value:%Y-%m-%d}' or (UpdateDate eq "
                 "'{incremental.start_value:%Y-%m-%d}' and UpdateTime ge '{incremental.start_value:%H:%M:%S}'))")


@dataclass(frozen=True)
class Entity:
    """The Service Layer entity a stream reads, the fields it selects with the type each lands as (the
    derived ``updated_at``/``ordered_at`` last), a fixed ``$filter`` and the ``$orderby`` paging is stable on."""

    path: str
    key: str
    fields: tuple[tuple[str, str], ...]
    where: str = ""
    order: str = ""

    @property
    def select(self) -> str:
        return ",".join(name for name, _ in self.fields if name not in (UPDATED, "ordered_at"))


LINE_FIELDS = (("LineNum", "bigint"), ("ItemCode", "text"), ("ItemDescription", "text"), ("Quantity", "decimal"),
               ("UnitPrice", "decimal"), ("LineTotal", "decimal"), ("Currency", "text"), ("WarehouseCode", "text"),
               ("BaseType", "bigint"), ("BaseEntry", "bigint"), ("BaseLine", "bigint"))
LINE_COLUMNS = {field: {"data_type": kind} for field, kind in (*LINE_FIELDS, ("DocEntry", "bigint"))}
DOCUMENT_FIELDS = (
    ("DocEntry", "bigint"), ("DocNum", "bigint"), ("CardCode", "text"), ("CardName", "text"), ("NumAtCard", "text"),
    ("DocDate", "date"), ("DocTime", "text"), ("DocDueDate", "date"), ("DocCurrency", "text"), ("DocTotal", "decimal"),
    ("VatSum", "decimal"), ("TotalDiscount", "decimal"), ("PaidToDate", "decimal"), ("DocumentStatus", "text"),
    ("Cancelled", "text"), ("Comments", "text"), ("DocumentLines", "json"), *STAMPS, ("ordered_at", "timestamp"))
WAREHOUSE_FIELDS = (("ItemCode", "text"), ("WarehouseCode", "text"), ("InStock", "decimal"), ("Committed", "decimal"),
                    ("Ordered", "decimal"))
ENTITIES = {
    "items": Entity("Items", "ItemCode", (
        ("ItemCode", "text"), ("ItemName", "text"), ("ForeignName", "text"), ("BarCode", "text"),
        ("InventoryItem", "text"), ("SalesItem", "text"), ("Valid", "text"), ("Frozen", "text"),
        ("InventoryUOM", "text"), *STAMPS), order="ItemCode"),
    "stock": Entity("Items", "ItemCode", (("ItemCode", "text"), ("ItemWarehouseInfoCollection", "json")),
                    where="InventoryItem eq 'tYES'", order="ItemCode"),
    "business_partners": Entity("BusinessPartners", "CardCode", (
        ("CardCode", "text"), ("CardName", "text"), ("CardType", "text"), ("Phone1", "text"),
        ("EmailAddress", "text"), ("Valid", "text"), ("Frozen", "text"), *STAMPS),
        where="CardType eq 'cCustomer'", order="CardCode"),
    **{name: Entity(path, "DocEntry", DOCUMENT_FIELDS, order="DocEntry") for name, path in (
        ("orders", "Orders"), ("delivery_notes", "DeliveryNotes"), ("invoices", "Invoices"),
        ("credit_notes", "CreditNotes"))},
}


def local_time(day: Any, clock: Any, zone: ZoneInfo) -> datetime:
    """A date (``2026-02-18``, or v4's ``2026-02-18T00:00:00Z``) and a wall-clock time (``13:15:50``,
    ``13:15``) of the company's zone, as one UTC time."""
    if not isinstance(day, str) or not isinstance(clock, str):
        raise TypeError("date and time strings expected")
    return datetime.fromisoformat(f"{day[:10]}T{clock.strip()}").replace(tzinfo=zone).astimezone(UTC)


def to_record(account: str, stream: str, zone: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """One entity as a row: the declared fields typed, ``updated_at`` from UpdateDate + UpdateTime,
    documents' ``ordered_at`` from DocDate + DocTime and their lines' declared fields typed (the others,
    ``Price`` among them, would land as floats). Raises
    :class:`SourceDataError` naming the record and field at fault."""
    entity, tz = ENTITIES[stream], ZoneInfo(zone)
    plain = tuple((name, kind) for name, kind in entity.fields if kind != "json" and name not in (UPDATED, "ordered_at"))

    def name(item: dict[str, Any]) -> str:  # the record, as errors and the quarantine name it
        return f"{entity.key} {item.get(entity.key)}"

    typed = typed_fields(account, stream, plain, zone, record=name)
    lines = typed_fields(account, stream, LINE_FIELDS, zone, record=name, prefix="DocumentLines.")

    def stamp(item: dict[str, Any], field: str, day: str, clock: str) -> None:
        try:
            item[field] = local_time(item.get(day), item.get(clock), tz)
        except (TypeError, ValueError):
            raise SourceDataError(account, stream, f"{day} and {clock} expected, got {item.get(day)!r} "
                                  f"{item.get(clock)!r}", record=name(item), field=clock) from None

    def convert(item: dict[str, Any]) -> dict[str, Any]:
        if ("UpdateDate", "text") in entity.fields:
            stamp(item, UPDATED, "UpdateDate", "UpdateTime")
        if "DocumentLines" in item:
            stamp(item, "ordered_at", "DocDate", "DocTime")
        typed(item)
        if "DocumentLines" in item:
            item["DocumentLines"] = [lines({field: line.get(field) for field, _ in LINE_FIELDS} | {"DocEntry": item["DocEntry"]})
                                     for line in item["DocumentLines"] or []]  # DocEntry: as SAP's lines carry it
        return item

    return convert


def warehouse_rows(account: str) -> Callable[[dict[str, Any]], Iterator[dict[str, Any]]]:
    """An item's ``ItemWarehouseInfoCollection`` as one row per warehouse, quantities exact."""
    typed = quarantining(typed_fields(account, "stock", WAREHOUSE_FIELDS, record=lambda row: (
        f"ItemCode {row.get('ItemCode')}, WarehouseCode {row.get('WarehouseCode')}")))

    def rows(item: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for info in item.get("ItemWarehouseInfoCollection") or []:
            row = typed({field: info.get(field) for field, _ in WAREHOUSE_FIELDS} | {"ItemCode": item["ItemCode"]})
            if row is not None:
                yield row

    return rows


def _stream(name: str, description: str, **extra: Any) -> Stream:
    entity = ENTITIES[name]
    types = tuple((field, kind) for field, kind in entity.fields if kind != "json")
    return Stream(name, (entity.key,), "merge", MODIFIED, description, types, **extra)


class SapB1Connector(Connector[SapB1Settings]):
    name = "sap_b1"
    kind = ConnectorKind.ERP
    settings_model = SapB1Settings
    streams: ClassVar[tuple[Stream, ...]] = (
        _stream("items", "Items (OITM): ItemCode is the merchant SKU."),
        Stream("stock", ("ItemCode", "WarehouseCode"), "replace", None,
               "Stock per inventory item and warehouse (Items' ItemWarehouseInfoCollection), replaced whole every "
               "run: a stock movement does not change the item's UpdateDate.", WAREHOUSE_FIELDS, not_null=("InStock",)),
        _stream("business_partners", "Customers (BusinessPartners with CardType cCustomer)."),
        _stream("orders", "Sales orders (ORDR) with their DocumentLines.", required=("DocTotal", "DocCurrency")),
        _stream("delivery_notes", "Deliveries (ODLN); lines name the order they deliver (BaseType 17)."),
        _stream("invoices", "A/R invoices (OINV); lines name the order or delivery they bill."),
        _stream("credit_notes", "A/R credit notes (ORIN); lines name the invoice they credit (BaseType 13)."),
    )

    def source(self, account: Account[SapB1Settings]) -> DltSource:
        settings = account.settings
        zone = ZoneInfo(settings.timezone)
        resources = []
        for stream in self.streams_for(account):
            entity = ENTITIES[stream.name]
            where = [entity.where] if entity.where else []
            if stream.cursor is not None:
                where.append(CHANGED_SINCE)
            params = {"$select": entity.select, "$orderby": entity.order, "$filter": " and ".join(where) or None}
            resources.append(resource_config(
                stream, {"path": entity.path, "params": {k: v for k, v in params.items() if v},
                         "data_selector": "value", "response_actions": [raise_for_sap_error]},
                initial_value=settings.start_date, account=account.name,
                convert=lambda when: when.astimezone(zone)))
        source = rest_source("sap_b1", make_client(settings), resources, max_table_nesting=1)
        for stream in self.streams_for(account):
            resource = source.resources[stream.name]
            if stream.name == "stock":
                resource.add_yield_map(warehouse_rows(account.name), insert_at=1)
            else:  # rows carry their cursor before the incremental reads it
                resource.add_map(quarantining(to_record(account.name, stream.name, settings.timezone)), insert_at=1)
            if ("DocumentLines", "json") in ENTITIES[stream.name].fields:  # typed even while a field is all NULL
                resource.apply_hints(nested_hints={"DocumentLines": make_nested_hints(columns=LINE_COLUMNS)})
        return source

    def check(self, account: Account[SapB1Settings]) -> CheckResult:
        """A login and one item code: proves the company database, the user and their read access."""
        settings = account.settings
        client = make_client(settings)
        try:
            response = client["session"].get(f"{settings.root}/Items", params={"$select": "ItemCode", "$top": 1},
                                             headers=client["headers"], auth=client["auth"])
        except (RequestException, LoginRefused) as exc:
            return CheckResult(False, f"cannot read {settings.root}: {type(exc).__name__}: {exc}")
        if not response.ok:
            code, message = sap_message(response)
            return CheckResult(False, f"the Service Layer at {settings.root} answered HTTP {response.status_code}, "
                                      f"code {code}: {message}")
        return CheckResult(True, f"SAP Business One at {settings.root}: company {settings.company_db!r} readable as "
                                 f"{settings.user!r}")
