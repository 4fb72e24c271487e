"""The ShipStation connector (API V1): the labels the merchant created (``GET /shipments`` with their
items) and the orders ShipStation imported from the stores (``GET /orders``).

ShipStation writes its times without an offset, in US Pacific time (``2026-03-01T10:00:00.0000000``),
and compares its ``…DateStart`` filters in the same wall clock: every cursor declares that zone once, times
land in UTC, and the bounds sent are Pacific wall clock. Lists page with ``page`` up to ``pages``, sorted
ascending on the cursor, so records created during a run land on the last page, not between pages.

A label changes once at most after it is made: it can be voided, any time later. Besides the labels
created since the last run, each run lists the labels voided since the last run (``voidDateStart``, its
own cursor) into the same ``shipments`` table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import dlt
import requests
from dlt.extract.items_transform import ItemTransform
from dlt.extract.source import DltSource

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
from connectors.sdk.convert import exact_decimal, whole_number
from connectors.sdk.quarantine import RecordGate
from connectors.sdk.rest import resource_config, rest_source
from connectors.sdk.spec import typed

from .client import ShipstationAPIError, auth, make_client, raise_for_shipstation_error, session
from .settings import ShipstationSettings

PACIFIC = "America/Los_Angeles"  # ShipStation's clock: every time it writes or compares is this wall clock
HOUR = 3_600
# A label is fixed once created, except that it can be voided, which LABEL_VOIDED follows. The hour
# covers the hour repeated when Pacific time falls back (a zone-less time in it is read as the first one).
LABEL_CREATED = Cursor("createDate", source_timezone=PACIFIC, lag=HOUR)
# The labels voided since the last run, however old (GET /shipments?voidDateStart=…), merged into
# shipments. The hour covers the repeated fall-back hour and a label voided while a run pages (README).
LABEL_VOIDED = Cursor("voidDate", source_timezone=PACIFIC, lag=HOUR)
# An order's modifyDate moves with every change; the hour covers the repeated fall-back hour.
ORDER_MODIFIED = Cursor("modifyDate", source_timezone=PACIFIC, lag=HOUR)
# The void listing's resource (it writes the shipments table), and where it starts without a start_date:
# before any ShipStation label (ShipStation opened in 2011), as a void listing needs a voidDateStart (without
# one ShipStation lists every label, voided or not).
VOIDS = "shipment_voids"
NO_VOID_BEFORE = datetime(2011, 1, 1, tzinfo=UTC)
# (stream, its key, its time fields, its money fields, its item list)
SHAPES = {
    "shipments": ("shipmentId", ("createDate", "voidDate"), ("shipmentCost", "insuranceCost"), "shipmentItems"),
    "orders": ("orderId", ("createDate", "modifyDate", "orderDate", "paymentDate", "shipByDate"),
               ("orderTotal", "amountPaid", "taxAmount", "shippingAmount"), "items"),
}
# Label and form files are base64 blobs (null in lists); nothing the hub reads.
LEFT_OUT = ("labelData", "formData")


def parse_time(account: str, stream: str, record: str, field: str, value: Any) -> datetime:
    """A ShipStation time (Pacific wall clock, up to 7 decimals, no offset) as an aware UTC datetime; one
    with an offset keeps it."""
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise SourceDataError(account, stream, f"expected a ShipStation time, got {value!r:.80}", record=record,
                              field=field) from None
    return (when if when.tzinfo else when.replace(tzinfo=ZoneInfo(PACIFIC))).astimezone(UTC)


def pacific_bound(value: datetime | None) -> str | None:
    """A cursor bound as ShipStation's ``…DateStart`` takes it: Pacific wall clock, whole seconds rounded
    down, so the server never drops a row dlt would keep (dlt filters the range exactly)."""
    return None if value is None else value.astimezone(ZoneInfo(PACIFIC)).strftime("%Y-%m-%d %H:%M:%S")


def to_record(account: str, stream: str, obj: Any, currency: str = "USD") -> dict[str, Any]:
    """One ShipStation object as a row: times UTC, money exact, the ship date a date, each item naming its
    parent (so the child table stands alone in staging), a label's cost with the account's ``currency``
    beside it (ShipStation sends none); raises :class:`SourceDataError` naming the record and field at
    fault."""
    key, times, money, items = SHAPES[stream]
    if not isinstance(obj, dict) or isinstance(obj.get(key), bool) or not isinstance(obj.get(key), int):
        raise SourceDataError(account, stream, f"object has no integer {key}: {obj!r:.80}", record="(no id)", field=key)
    record = str(obj[key])
    row = {name: value for name, value in obj.items() if name not in LEFT_OUT}
    for field in times:
        if obj.get(field) is not None:
            row[field] = parse_time(account, stream, record, field, obj[field])
    for field in money:
        row[field] = _typed(account, stream, record, field, obj.get(field), exact_decimal)
    if stream == "shipments":
        row["currency"] = currency
        row["shipDate"] = _typed(account, stream, record, "shipDate", obj.get("shipDate"),
                                 lambda value: date.fromisoformat(value[:10]))
    row[items] = [{**item, key: obj[key],
                   "quantity": _typed(account, stream, record, f"{items}.quantity", item.get("quantity"), whole_number),
                   "unitPrice": _typed(account, stream, record, f"{items}.unitPrice", item.get("unitPrice"),
                                       exact_decimal)}
                  for item in obj.get(items) or [] if isinstance(item, dict)]
    return row


def _rows(account: str, stream: str, currency: str) -> Callable[[Any], dict[str, Any]]:
    """:func:`to_record` of one stream, as a map step takes it (the item its one argument)."""
    return lambda obj: to_record(account, stream, obj, currency)


def _typed(account: str, stream: str, record: str, field: str, value: Any, convert: Any) -> Any:
    if value is None:
        return None
    try:
        return convert(value)
    except (TypeError, ValueError, ArithmeticError):
        raise SourceDataError(account, stream, f"unexpected {field} {value!r:.40}", record=record,
                              field=field) from None


def _endpoint(stream: str, settings: ShipstationSettings) -> dict[str, Any]:
    params: dict[str, Any] = {"pageSize": settings.page_size, "sortDir": "ASC"}
    if stream == "shipments":
        params |= {"includeShipmentItems": "true", "sortBy": "CreateDate"}
    else:
        params |= {"sortBy": "ModifyDate"}
    return {"path": f"/{stream}", "params": params, "data_selector": stream,
            "response_actions": [raise_for_shipstation_error]}


def _voids_endpoint(settings: ShipstationSettings) -> dict[str, Any]:
    """The labels listing, for the labels voided since the cursor (``voidDateStart``, the resource's
    incremental). Sorted on creation, as ShipStation documents no void-date sort: a label voided while the
    run pages moves later pages on, never skipping one, and the next run's lag re-reads it. With a
    ``start_date``, labels created before it stay out, as they do from the labels listing. Items included,
    as a merged label's items are replaced with it."""
    endpoint = _endpoint("shipments", settings)
    if settings.start_date is not None:
        endpoint["params"]["createDateStart"] = pacific_bound(settings.start_date)
    return endpoint


class VoidsAfterAWholeRead(ItemTransform[Any, Any]):
    """A pipe step after the void listing's incremental. A run whose labels listing reads from its start (a
    first load, a full refresh: the labels cursor had no value) reads every label with its void already,
    so this step drops the void listing's records (loaded twice, the run would count them twice) while
    the void cursor still moves on: the next run lists the voids made since. The labels cursor is read as
    the run found it, when dlt binds the pipes, before any page is read."""

    placement_affinity: ClassVar[float] = 1.5  # after the incremental (1), so the void cursor advances

    def __init__(self) -> None:
        super().__init__(lambda item: item)
        self.labels_read_whole = False

    def bind(self, pipe: Any) -> VoidsAfterAWholeRead:
        labels = dlt.current.resource_state("shipments").get("incremental", {}).get(LABEL_CREATED.field, {})
        self.labels_read_whole = labels.get("last_value") in (None, labels.get("initial_value"))
        return self

    def __call__(self, item: Any, meta: Any = None) -> Any:
        return None if self.labels_read_whole else item


class ShipstationConnector(Connector[ShipstationSettings]):
    name = "shipstation"
    kind = ConnectorKind.LOGISTICS
    settings_model = ShipstationSettings
    streams: ClassVar[tuple[Stream, ...]] = (
        Stream("shipments", ("shipmentId",), cursor=LABEL_CREATED,
               column_types=typed((("createDate", "voidDate"), "timestamp"), (("shipDate",), "date"),
                                  (("shipmentCost", "insuranceCost"), "decimal"), (("orderId",), "bigint"),
                                  (("orderKey", "orderNumber", "trackingNumber", "carrierCode", "serviceCode", "currency",
                                    "advancedOptions__customField1"), "text"), (("voided",), "bool")),
               required=("createDate", "carrierCode", "trackingNumber"),
               description="Labels created in ShipStation, voided ones too (voided, voidDate): carrier and service "
                           "codes, the waybill (trackingNumber), the cost (shipmentCost, in the account's currency, "
                           "which the connector writes as currency); "
                           "the shop order in orderKey and advancedOptions.customField1 (README); the items shipped "
                           "in child table shipments__shipment_items."),
        Stream("orders", ("orderId",), cursor=ORDER_MODIFIED,
               column_types=typed((("createDate", "modifyDate", "orderDate", "paymentDate", "shipByDate"), "timestamp"),
                                  (("orderTotal", "amountPaid", "taxAmount", "shippingAmount"), "decimal"),
                                  (("orderKey", "orderNumber", "orderStatus", "advancedOptions__customField1"), "text")),
               required=("orderStatus",),
               description="Orders ShipStation imported from the stores: status (awaiting_payment, awaiting_shipment, "
                           "shipped, cancelled…), the shop's order id (orderKey) and number; items in orders__items."),
    )

    def source(self, account: Account[ShipstationSettings]) -> DltSource:
        """One resource per stream, and the void listing (``VOIDS``), which the runner selects with the
        shipments it writes. The void listing's records pass the shipments' declaration (the runner gates
        the streams' own resources only)."""
        settings = account.settings
        starts = {"shipments": "createDateStart", "orders": "modifyDateStart"}
        resources = [resource_config(stream, _endpoint(stream.name, settings), start_param=starts[stream.name],
                                     initial_value=settings.start_date, convert=pacific_bound, account=account.name)
                     for stream in self.streams_for(account)]
        voided = replace(self.stream("shipments"), cursor=LABEL_VOIDED)
        resources.append(resource_config(voided, _voids_endpoint(settings), start_param="voidDateStart",
                                         initial_value=settings.start_date or NO_VOID_BEFORE, convert=pacific_bound,
                                         account=account.name, name=VOIDS, table_name="shipments",
                                         steps=[RecordGate(account.name, voided), VoidsAfterAWholeRead()]))
        source = rest_source("shipstation", make_client(settings), resources)
        for resource in resources:  # objects become rows before the incremental reads their cursor
            stream = resource.get("table_name", resource["name"])
            source.resources[resource["name"]].add_map(
                quarantining(_rows(account.name, stream, settings.currency)), insert_at=1)
        return source

    def check(self, account: Account[ShipstationSettings]) -> CheckResult:
        """One shipment (``GET /shipments?pageSize=1``): proves the key and secret, and says how many
        labels the account holds."""
        settings = account.settings
        url = f"{settings.base_url.rstrip('/')}/shipments"
        try:
            response = session(settings).get(url, params={"pageSize": 1}, auth=auth(settings))
        except requests.RequestException as exc:
            return CheckResult(False, f"cannot reach ShipStation at {settings.base_url}: {type(exc).__name__}")
        if response.status_code != 200:
            return CheckResult(False, str(ShipstationAPIError(response)))
        total = response.json().get("total") or 0
        return CheckResult(True, f"ShipStation: {total} label(s)", {"labels": total})
