"""The ShipStation connector (API V1): the labels the merchant created (``GET /shipments`` with their
items) and the orders ShipStation imported from the stores (``GET /orders``).

ShipStation writes its times without an offset, in US Pacific time (``2026-03-01T10:00:00.0000000``),
and compares its ``…DateStart`` filters in the same wall clock: both cursors declare that zone once, times
land in UTC, and the bounds sent are Pacific wall clock. Lists page with ``page`` up to ``pages``, sorted
ascending on the cursor, so records created during a run land on the last page, not between pages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import requests
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
from connectors.sdk.rest import resource_config, rest_source
from connectors.sdk.spec import typed

from .client import ShipstationAPIError, auth, make_client, raise_for_shipstation_error, session
from .settings import ShipstationSettings

PACIFIC = "America/Los_Angeles"  # ShipStation's clock: every time it writes or compares is this wall clock
HOUR, DAY = 3_600, 86_400
# A label is fixed once created, except that it can be voided (voided, voidDate): re-read a week of
# labels, the voids made within a week of the label (README). Also covers the hour repeated when Pacific
# time falls back (a zone-less time in it is read as the first one).
LABEL_CREATED = Cursor("createDate", source_timezone=PACIFIC, lag=7 * DAY)
# An order's modifyDate moves with every change; the hour covers the repeated fall-back hour.
ORDER_MODIFIED = Cursor("modifyDate", source_timezone=PACIFIC, lag=HOUR)
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
        settings = account.settings
        starts = {"shipments": "createDateStart", "orders": "modifyDateStart"}
        resources = [resource_config(stream, _endpoint(stream.name, settings), start_param=starts[stream.name],
                                     initial_value=settings.start_date, convert=pacific_bound, account=account.name)
                     for stream in self.streams_for(account)]
        source = rest_source("shipstation", make_client(settings), resources)
        for resource in resources:  # objects become rows before the incremental reads their cursor
            source.resources[resource["name"]].add_map(
                quarantining(_rows(account.name, resource["name"], settings.currency)), insert_at=1)
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
