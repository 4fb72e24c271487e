"""The EasyPost connector: the merchant's bought labels (``GET /v2/shipments``) and their trackers
(``GET /v2/trackers``, each tracker's ``tracking_details`` a child table: the carrier's scans).

Both lists filter only by ``created_at`` (``start_datetime``) and list newest first, paged back with
``before_id`` until ``has_more`` is false. A label is fixed once bought; a tracker changes for as long
as its parcel travels, while its ``created_at`` stays put and ``updated_at`` is no filter. So the
trackers' cursor lag re-reads every tracker created in the last 30 days on each run (merged on id): a
parcel's whole journey, in practice, is inside it. A tracker that changes later still (a return weeks
on) is not re-read until a full refresh: README, "What the lookback does and does not catch".
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, ClassVar

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
    retrying_session,
)
from connectors.sdk.rest import resource_config, rest_source
from connectors.sdk.spec import typed

from .client import EasypostAPIError, auth, make_client, paginator, raise_for_easypost_error
from .settings import EasypostSettings

DAY = 86_400
# A label's fields are fixed once bought; a day re-reads labels refunded (refund_status) soon after.
LABEL_CREATED = Cursor("created_at", source_timezone="UTC", lag=DAY, row_order="desc")
# A tracker changes until its parcel arrives or comes back: re-read those created in the last 30 days.
TRACKER_CREATED = Cursor("created_at", source_timezone="UTC", lag=30 * DAY, row_order="desc")
# The parts of a shipment kept elsewhere: its tracker (the trackers stream; its id stays as tracker_id)
# and the rates offered before purchase (selected_rate is the one bought).
LEFT_TO_OTHERS = ("tracker", "rates")


def parse_time(account: str, stream: str, record: str, field: str, value: Any) -> datetime:
    """EasyPost's ISO 8601 UTC time (``2026-01-02T14:17:24Z``) as an aware datetime."""
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise SourceDataError(account, stream, f"expected an ISO 8601 time, got {value!r:.80}", record=record,
                              field=field) from None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def start_datetime(value: datetime | None) -> str | None:
    """A cursor bound as EasyPost's ``start_datetime`` takes it: ISO 8601 UTC, whole seconds rounded down,
    so the server never drops a row dlt would keep (dlt filters the range exactly)."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_record(account: str, stream: str, obj: Any) -> dict[str, Any]:
    """One EasyPost object as a row, times UTC, the rate bought an exact decimal; raises
    :class:`SourceDataError` naming the record and field at fault."""
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
        raise SourceDataError(account, stream, f"object has no id: {obj!r:.80}", record="(no id)", field="id")
    record = obj["id"]
    when = partial(parse_time, account, stream, record)
    row = {key: value for key, value in obj.items() if stream != "shipments" or key not in LEFT_TO_OTHERS}
    row["created_at"], row["updated_at"] = when("created_at", obj.get("created_at")), when("updated_at", obj.get("updated_at"))
    if stream == "shipments":
        row["tracker_id"] = (obj.get("tracker") or {}).get("id")
        if (rate := obj.get("selected_rate")) is not None:
            row["selected_rate"] = {**rate, "rate": _amount(account, record, rate)}
    else:
        if obj.get("est_delivery_date") is not None:
            row["est_delivery_date"] = when("est_delivery_date", obj["est_delivery_date"])
        # each scan names its tracker, so its rows (the child table) stand alone in staging
        row["tracking_details"] = [{**detail, "tracker_id": record,
                                    "datetime": when("tracking_details.datetime", detail.get("datetime"))}
                                   for detail in obj.get("tracking_details") or []]
    return row


def _amount(account: str, record: str, rate: dict[str, Any]) -> Decimal:
    """The label's price: a decimal string (``"7.58"``) with an ISO currency code beside it."""
    try:
        amount = Decimal(rate["rate"]) if isinstance(rate.get("rate"), str) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or not isinstance(rate.get("currency"), str) \
            or len(rate["currency"]) != 3:
        raise SourceDataError(account, "shipments", f"expected a decimal string and an ISO currency, got "
                              f"{rate.get('rate')!r:.40} {rate.get('currency')!r:.10}", record=record,
                              field="selected_rate.rate")
    return amount


class EasypostConnector(Connector[EasypostSettings]):
    name = "easypost"
    kind = ConnectorKind.LOGISTICS
    settings_model = EasypostSettings
    streams: ClassVar[tuple[Stream, ...]] = (
        Stream("shipments", ("id",), cursor=LABEL_CREATED,
               column_types=typed((("created_at", "updated_at"), "timestamp"), (("selected_rate__rate",), "decimal"),
                                  (("reference", "tracking_code", "tracker_id", "refund_status", "batch_id",
                                    "batch_status", "selected_rate__carrier", "selected_rate__service",
                                    "selected_rate__currency", "selected_rate__retail_rate",
                                    "selected_rate__retail_currency"), "text")),
               description="Bought labels: carrier and service (selected_rate), the waybill (tracking_code), the "
                           "label's cost; reference names the shop order, <shop>:<order id>."),
        Stream("trackers", ("id",), cursor=TRACKER_CREATED,
               column_types=typed((("created_at", "updated_at", "est_delivery_date"), "timestamp"),
                                  (("shipment_id", "signed_by", "status_detail"), "text"), (("weight",), "double")),
               required=("tracking_code", "status"),
               description="A parcel's tracking: status (pre_transit, in_transit, out_for_delivery, delivered, "
                           "failure, return_to_sender…), the carrier's scans in child table "
                           "trackers__tracking_details."),
    )

    def source(self, account: Account[EasypostSettings]) -> DltSource:
        settings = account.settings
        resources = [
            resource_config(stream, {"path": f"/v2/{stream.name}", "params": {"page_size": settings.page_size},
                                     "data_selector": stream.name, "paginator": paginator(stream.name),
                                     "response_actions": [raise_for_easypost_error]},
                            start_param="start_datetime", initial_value=settings.start_date,
                            convert=start_datetime, account=account.name)
            for stream in self.streams_for(account)]
        source = rest_source("easypost", make_client(settings), resources)
        for resource in resources:  # objects become rows before the incremental reads ``created_at``
            source.resources[resource["name"]].add_map(
                quarantining(partial(to_record, account.name, resource["name"])), insert_at=1)
        return source

    def check(self, account: Account[EasypostSettings]) -> CheckResult:
        """One shipment (``GET /v2/shipments?page_size=1``): proves the key and names its mode."""
        settings = account.settings
        url = f"{settings.base_url.rstrip('/')}/v2/shipments"
        try:
            response = retrying_session(settings.retry_policy()).get(url, params={"page_size": 1}, auth=auth(settings))
        except requests.RequestException as exc:
            return CheckResult(False, f"cannot reach EasyPost at {settings.base_url}: {type(exc).__name__}")
        if response.status_code != 200:
            return CheckResult(False, str(EasypostAPIError(response)))
        mode = "production" if settings.api_key.get_secret_value().startswith("EZAK") else "test"
        shipments = response.json().get("shipments") or []
        return CheckResult(True, f"EasyPost {mode} key: {'shipments listed' if shipments else 'no shipment yet'}",
                           {"mode": mode, "has_shipments": bool(shipments)})
