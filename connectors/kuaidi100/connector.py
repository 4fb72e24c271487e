"""The Kuaidi100 connector: a tracker (:class:`connectors.sdk.tracking.WaybillTracker`). It lists nothing:
each run asks about the waybills the runner hands it (the unfinished parcels of its carriers in
``marts.fct_shipments``), one signed real-time query each, within the day's quota, and keeps the latest
answer per waybill (``waybills``, merged on carrier and waybill) and every scan it has shown (``scans``, a
table of their own merged on carrier, waybill and ``scan_id``), so an answer adds the scans that are new
and removes none: Kuaidi100 may answer 查询无结果 about a parcel it had scans of. A scan is told from
another by its time and its ``context`` (the carrier's text of what happened where: Kuaidi100 gives a
scan no code of its own, and two scans of one second differ in it).

Kuaidi100 writes times as Beijing wall time without a zone (``2026-11-20 14:03:11``): read here, once, in
Asia/Shanghai, and kept in UTC. A waybill Kuaidi100 has no scan of yet is an answer (``found`` false),
not a failure; an answer that cannot be read is quarantined naming the waybill, and the waybill is asked
again next run (it is still unfinished in the hub). What refuses the account (signature, customer, key,
package) fails the run naming the account and the waybill it was asking about.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import dlt
import requests
from dlt.extract.source import DltSource

from connectors.sdk import Account, CheckResult, ConnectorKind, SourceDataError, Stream, quarantining
from connectors.sdk.spec import typed
from connectors.sdk.tracking import SCAN_KEY, Waybill, WaybillTracker, scan_id

from .client import NO_RESULT, PHONE_MISMATCH, Kuaidi100Client, Kuaidi100Error
from .settings import Kuaidi100Settings

STREAM, SCANS = "waybills", "scans"
BEIJING = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PHONE_REQUIRED = ("shunfeng", "shunfengkuaiyun")  # 顺丰: Kuaidi100 answers only with the receiver's phone


def beijing_time(account: str, record: str, value: Any) -> datetime:
    """A scan's ``time`` (Beijing wall time, no zone) as an aware UTC datetime."""
    try:
        return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=BEIJING).astimezone(UTC)
    except (TypeError, ValueError):
        raise SourceDataError(account, STREAM, f"expected a scan time like 2026-11-20 14:03:11, got {value!r:.40}",
                              record=record, field="data.time") from None


def to_records(account: str, com_codes: dict[str, str], item: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One answer as the waybill's row and its scans (``scan_index`` their place in the answer, asked
    oldest first; ``scan_id`` from their time and context); raises :class:`SourceDataError` naming the
    waybill and the field at fault."""
    waybill: Waybill = item["waybill"]
    record = f"{waybill.carrier} {waybill.tracking_code}"
    row = {"carrier": waybill.carrier, "tracking_code": waybill.tracking_code, "com": com_codes[waybill.carrier]}
    if "unasked" in item:
        raise SourceDataError(account, STREAM, item["unasked"], record=record, field="phone")
    answer = item.get("answer")
    if not isinstance(answer, dict):
        raise SourceDataError(account, STREAM, f"Kuaidi100's answer is not a JSON object: "
                              f"{item.get('unreadable', answer)!r:.80}", record=record)
    if answer.get("result") is False or "returnCode" in answer:
        code, message = str(answer.get("returnCode")), str(answer.get("message") or "")
        if code == PHONE_MISMATCH:
            raise SourceDataError(account, STREAM, f"the carrier refused the receiver's phone ({message})",
                                  record=record, field="phone")
        return {**row, "found": False, "return_code": code or NO_RESULT, "message": message, "state": None,
                "ischeck": None, "condition": None}, []
    if answer.get("nu") != waybill.tracking_code:
        raise SourceDataError(account, STREAM, f"Kuaidi100 answered about waybill {answer.get('nu')!r:.40}",
                              record=record, field="nu")
    state, data = answer.get("state"), answer.get("data")
    if not str(state).isdigit():
        raise SourceDataError(account, STREAM, f"expected a state code, got {state!r:.40}", record=record, field="state")
    if not isinstance(data, list) or not all(isinstance(scan, dict) for scan in data):
        raise SourceDataError(account, STREAM, f"expected a list of scans, got {data!r:.80}", record=record,
                              field="data")
    scans = []
    for index, scan in enumerate(data):
        at = beijing_time(account, record, scan.get("time"))
        scans.append({**scan, "occurred_at": at, "scan_index": index, "carrier": waybill.carrier,
                      "tracking_code": waybill.tracking_code, "scan_id": scan_id(at.isoformat(), scan.get("context"))})
    return {**row, "com": answer.get("com") or row["com"], "found": True, "return_code": None,
            "message": answer.get("message"), "state": str(state), "ischeck": str(answer.get("ischeck")),
            "condition": answer.get("condition")}, scans


class Kuaidi100Connector(WaybillTracker[Kuaidi100Settings]):
    name = "kuaidi100"
    kind = ConnectorKind.LOGISTICS
    settings_model = Kuaidi100Settings
    streams: ClassVar[tuple[Stream, ...]] = (
        Stream(STREAM, ("carrier", "tracking_code"),
               column_types=typed((("carrier", "tracking_code", "com", "state", "ischeck", "condition", "message",
                                    "return_code"), "text"), (("found",), "bool")),
               description="Kuaidi100's latest answer per waybill asked: found, state (0 在途, 1 揽收, 2 疑难, "
                           "3 签收, 4 退签, 5 派件, 6 退回, 7 转单…); the load that wrote it says when."),
        Stream(SCANS, SCAN_KEY,
               column_types=typed((("carrier", "tracking_code", "scan_id", "time", "context", "status", "statusCode",
                                    "areaCode", "areaName", "location"), "text"),
                                  (("occurred_at",), "timestamp"), (("scan_index",), "bigint")),
               description="Every scan Kuaidi100 has shown of a waybill, kept when a later answer no longer "
                           "holds it: occurred_at (UTC), context, status, area_name, scan_index (its place in "
                           "the latest answer holding it, oldest first); scan_id from its time and context."),
    )

    def source(self, account: Account[Kuaidi100Settings]) -> DltSource:
        settings = account.settings
        client = Kuaidi100Client(settings)
        convert = quarantining(partial(to_records, account.name, settings.com_codes))
        hints = {stream.name: stream.table_hints() for stream in self.streams}

        def answers() -> Iterator[dict[str, Any]]:
            """An answer per waybill today's quota allows; an SF waybill without a phone is not asked."""
            askable = []
            for waybill in account.waybills:
                if settings.com_codes[waybill.carrier] in PHONE_REQUIRED and not waybill.phone:
                    yield {"waybill": waybill, "unasked": "no receiver's phone in the hub: Kuaidi100 answers "
                                                          "for this carrier only with it (not asked)"}
                else:
                    askable.append(waybill)
            for waybill in self.within_quota(account, askable):
                yield client.query(account.name, waybill)

        def waybills() -> Iterator[Any]:
            for answer in answers():
                if (records := convert(answer)) is not None:
                    row, scans = records
                    yield dlt.mark.with_hints(row, hints[STREAM], create_table_variant=True)
                    yield dlt.mark.with_hints(scans, hints[SCANS], create_table_variant=True)

        @dlt.source(name="kuaidi100", max_table_nesting=0)
        def kuaidi100() -> Any:
            waybill = self.stream(STREAM)
            return dlt.resource(waybills, **waybill.resource_hints(columns=False))

        return kuaidi100()

    def check(self, account: Account[Kuaidi100Settings]) -> CheckResult:
        """One query about a waybill no carrier issued: Kuaidi100 answers 查询无结果 when the customer and
        key are right, and refuses them otherwise. It spends one query of the day's package."""
        settings = account.settings
        probe = Waybill(settings.carriers[0], "0000000000", datetime.now(UTC), "0000")
        try:
            Kuaidi100Client(settings).query(account.name, probe)
        except Kuaidi100Error as exc:
            return CheckResult(False, str(exc))
        except requests.RequestException as exc:
            return CheckResult(False, f"cannot reach Kuaidi100 at {settings.base_url}: {type(exc).__name__}")
        return CheckResult(True, f"Kuaidi100 customer and key accepted; following {', '.join(settings.carriers)}",
                           {"carriers": list(settings.carriers)})
