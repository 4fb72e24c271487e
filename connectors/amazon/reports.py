"""The first sync's backfill through the Reports API: one flat-file report of every order updated in the
range instead of a getOrders page a minute and a getOrderItems call per order (100,000 orders: about 1,000
getOrders calls, some 16 hours at 0.0167 a second, then 100,000 getOrderItems calls, 55 hours at 0.5 a
second; the report is one createReport, a few getReport polls and one download).

``createReport`` (``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL``) → ``getReport`` polled until
``DONE``, ``CANCELLED`` or ``FATAL`` (tenacity: waits growing from ``report_poll_seconds``, giving up after
``report_timeout_minutes``) → ``getReportDocument`` → the pre-signed document, downloaded without the
access token (it is for Amazon's API, not for the storage host), gunzipped when ``compressionAlgorithm``
says ``GZIP``, read as tab-separated text. A report that ends otherwise than ``DONE`` (Amazon cancels
reports with nothing to say, and some end ``FATAL``) or does not finish in time gives None: the caller
reads the range through the Orders API instead.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
from datetime import datetime
from typing import Any

from tenacity import Retrying, retry_if_result, stop_after_delay, wait_exponential

from connectors.sdk import retrying_session

from .client import call, raise_refusal
from .settings import AmazonSettings

ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
PROCESSING = frozenset({"IN_QUEUE", "IN_PROGRESS"})
REPORTS = "reports/2021-06-30"
log = logging.getLogger(__name__)


def order_report(client: dict[str, Any], settings: AmazonSettings, start: datetime,
                 end: datetime) -> list[dict[str, str]] | None:
    """The report's rows (one per order item, keyed by the file's column names), or None when Amazon
    did not make it."""
    created = call(client, "POST", f"{REPORTS}/reports", json={
        "reportType": ALL_ORDERS, "marketplaceIds": [settings.marketplace_id],
        "dataStartTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "dataEndTime": end.strftime("%Y-%m-%dT%H:%M:%SZ")})
    polling = Retrying(retry=retry_if_result(lambda report: report.get("processingStatus") in PROCESSING),
                       wait=wait_exponential(multiplier=settings.report_poll_seconds, max=300),
                       stop=stop_after_delay(settings.report_timeout_minutes * 60),
                       retry_error_callback=lambda state: state.outcome.result())
    report = polling(call, client, "GET", f"{REPORTS}/reports/{created['reportId']}")
    status = report.get("processingStatus")
    if status != "DONE":
        log.warning("report %s of %s ended %s: reading the range through the Orders API instead",
                    created["reportId"], ALL_ORDERS, status)
        return None
    document = call(client, "GET", f"{REPORTS}/documents/{report['reportDocumentId']}")
    response = retrying_session(settings.retry_policy()).get(document["url"])
    raise_refusal(response)
    content = response.content
    if document.get("compressionAlgorithm") == "GZIP":
        content = gzip.decompress(content)
    text = content.decode(response.encoding or "utf-8")
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))
