"""The SF Express connector: the routes (路由) of the SF waybills the hub knows, asked of 丰桥's route
query (``EXP_RECE_SEARCH_ROUTES``), up to 10 waybills a call.

SF lists nothing: what to ask for is ``account.waybills``, the unfinished SF parcels the runner reads
from ``marts.fct_shipments`` (channelhub/tracking.py), least recently asked first. Each waybill asked
counts against the account's ``daily_quota`` (``within_quota``: Beijing days, counted by the runner),
so a run that meets the quota leaves the rest for the next day's runs. An answer is one row per
waybill (``waybills``, keyed by carrier and waybill, merged: the latest answer, its ``route_count``)
and its scans in ``routes``, a table of their own merged on carrier, waybill and ``scan_id``, so an
answer adds the routes that are new and removes none: SF forgets routes after about three months, and
a stuck parcel is still asked about within ``track_days``. A route is told from another by its
``acceptTime``, ``opCode`` and ``acceptAddress`` (what happened when and where; the remark is SF's
wording of it, which may change). ``acceptTime`` is Beijing wall-clock time without a zone; it is made
UTC here, once. A waybill SF shows no route for yet (routes begin when the courier collects the
parcel; SF answers an unknown waybill the same way) is a row with route_count 0: asked, no data. A
route that cannot be read sets its waybill aside (``ops.quarantine``), never the account's run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from itertools import islice
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import dlt
from dlt.extract.source import DltSource

from connectors.sdk import Account, CheckResult, ConnectorKind, SourceDataError, Stream, quarantining
from connectors.sdk.spec import typed
from connectors.sdk.tracking import SCAN_KEY, Waybill, WaybillTracker, scan_id

from .client import SEARCH_ROUTES, SfBusinessError, SfClient, SfGatewayError
from .settings import SfExpressSettings

log = logging.getLogger(__name__)
BEIJING = ZoneInfo("Asia/Shanghai")
STREAM, ROUTES = "waybills", "routes"
ACCEPT_TIME = "%Y-%m-%d %H:%M:%S"


def batches(waybills: Iterable[Waybill], size: int) -> Iterator[list[Waybill]]:
    """``waybills`` in lists of ``size``, taken one by one (so each counts against the quota as it is taken)."""
    waiting = iter(waybills)
    while batch := list(islice(waiting, size)):
        yield batch


def search_routes(numbers: list[str], phones: list[str], language: str) -> dict[str, Any]:
    """The route query's msgData: SF waybills (trackingType 1), standard routes (methodType 1), and the last
    four digits of the receivers' phones SF may ask for, comma-joined."""
    payload: dict[str, Any] = {"language": language, "trackingType": "1", "trackingNumber": numbers, "methodType": "1"}
    if phones:
        payload["checkPhoneNo"] = ",".join(phones)
    return payload


def last_four(phone: str | None) -> str | None:
    digits = "".join(char for char in phone or "" if char.isdigit())
    return digits[-4:] if len(digits) >= 4 else None


def accept_time(account: str, record: str, value: Any) -> datetime:
    """``2026-10-02 11:30:00``, Beijing wall-clock time, as an aware UTC datetime."""
    try:
        when = datetime.strptime(value, ACCEPT_TIME)
    except (TypeError, ValueError):
        raise SourceDataError(account, STREAM, f"expected acceptTime as yyyy-MM-dd HH:mm:ss, got {value!r:.40}",
                              record=record, field="routes.acceptTime") from None
    return when.replace(tzinfo=BEIJING).astimezone(UTC)


def to_records(account: str, asked: Mapping[str, Waybill], answer: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One ``routeResps`` entry as the waybill's row and its routes (``route_index`` their place in SF's
    list, times UTC, ``scan_id`` from acceptTime, opCode and acceptAddress); raises
    :class:`SourceDataError` naming the waybill and field at fault."""
    number = answer.get("mailNo") if isinstance(answer, dict) else None
    if not isinstance(number, str) or number not in asked:
        raise SourceDataError(account, STREAM, f"an answer for a waybill not asked about: {number!r:.40}",
                              record=str(number), field="mailNo")
    routes = answer.get("routes")
    if not isinstance(routes, list) or not all(isinstance(route, dict) for route in routes):
        raise SourceDataError(account, STREAM, f"routes is not a list of scans: {routes!r:.80}", record=number,
                              field="routes")
    carrier, scans = asked[number].carrier, []
    for index, route in enumerate(routes):
        at = accept_time(account, number, route.get("acceptTime"))
        scans.append({**route, "carrier": carrier, "tracking_code": number, "acceptTime": at, "route_index": index,
                      "scan_id": scan_id(at.isoformat(), route.get("opCode"), route.get("acceptAddress"))})
    return {"carrier": carrier, "tracking_code": number, "route_count": len(routes)}, scans


class SfExpressConnector(WaybillTracker[SfExpressSettings]):
    name = "sf_express"
    kind = ConnectorKind.LOGISTICS
    settings_model = SfExpressSettings
    streams: ClassVar[tuple[Stream, ...]] = (
        Stream(STREAM, ("carrier", "tracking_code"),
               column_types=typed((("route_count",), "bigint"),
                                  (("carrier", "tracking_code"), "text")),
               description="One row per SF waybill asked, as last answered (route_count: the routes it held, "
                           "0: no scan yet); the load that wrote it says when."),
        Stream(ROUTES, SCAN_KEY,
               column_types=typed((("carrier", "tracking_code", "scan_id", "acceptAddress", "remark", "opCode"), "text"),
                                  (("acceptTime",), "timestamp"), (("route_index",), "bigint")),
               description="Every route SF has shown of a waybill, kept when a later answer no longer holds it: "
                           "acceptTime (UTC), acceptAddress, remark, opCode, route_index (its place in the "
                           "latest answer holding it); scan_id from acceptTime, opCode and acceptAddress."),
    )

    def source(self, account: Account[SfExpressSettings]) -> DltSource:
        settings, name = account.settings, account.name
        client = SfClient(settings, name)
        convert = quarantining(lambda item: to_records(name, *item))
        hints = {stream.name: stream.table_hints() for stream in self.streams}

        def waybills() -> Iterator[Any]:
            for batch in batches(self.within_quota(account, account.waybills), settings.page_size):
                asked = {waybill.tracking_code: waybill for waybill in batch}
                phones = list(dict.fromkeys(filter(None, (last_four(waybill.phone) for waybill in batch))))
                result = client.call(SEARCH_ROUTES, search_routes(list(asked), phones, settings.language), STREAM)
                answers = (result.get("msgData") or {}).get("routeResps") or []
                if not isinstance(answers, list):
                    raise SourceDataError(name, STREAM, f"msgData.routeResps is not a list: {answers!r:.80}")
                answered = {answer.get("mailNo") for answer in answers
                            if isinstance(answer, dict) and isinstance(answer.get("mailNo"), str)}
                unanswered = [{"mailNo": number, "routes": []} for number in asked if number not in answered]
                if unanswered:  # SF leaves out a waybill it cannot show: asked, no data, as an empty route
                    log.info("account %r: SF answered nothing for %d of %d waybills", name, len(unanswered), len(asked))
                read = [records for answer in answers + unanswered if (records := convert((asked, answer))) is not None]
                yield dlt.mark.with_hints([row for row, _ in read], hints[STREAM], create_table_variant=True)
                yield dlt.mark.with_hints([route for _, routes in read for route in routes], hints[ROUTES],
                                          create_table_variant=True)

        @dlt.source(name="sf_express", max_table_nesting=0)
        def sf_express() -> Any:
            waybill = self.stream(STREAM)
            return dlt.resource(waybills, **waybill.resource_hints(columns=False))

        return sf_express()

    def check(self, account: Account[SfExpressSettings]) -> CheckResult:
        """A route query for no waybill: the gateway checks the partner id and msgDigest and the service
        answers 8013 (no waybill given), so the credentials are proven without spending a query."""
        client = SfClient(account.settings, account.name)
        try:
            client.call(SEARCH_ROUTES, search_routes([], [], account.settings.language), STREAM)
        except SfBusinessError as refused:
            return CheckResult(True, f"SF Express accepted the partner id and check word ({SEARCH_ROUTES} "
                                     f"answered {refused.code} for no waybill)", {"service": SEARCH_ROUTES})
        except SfGatewayError as refused:
            return CheckResult(False, str(refused), {"code": refused.code})
        except OSError as exc:  # requests' errors are OSErrors
            return CheckResult(False, f"cannot reach SF Express at {account.settings.base_url}: {type(exc).__name__}")
        return CheckResult(True, "SF Express accepted the partner id and check word", {"service": SEARCH_ROUTES})
