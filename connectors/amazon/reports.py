"""The first sync's backfill through the Reports API: one flat-file report of every order updated in the
range instead of a getOrders page a minute and a getOrderItems call per order (100,000 orders: about 1,000
getOrders calls, some 16 hours at 0.0167 a second, then 100,000 getOrderItems calls, 55 hours at 0.5 a
second; the report is one createReport, a few getReport polls and one download).

``createReport`` (``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL``) → ``getReport`` polled until
``DONE``, ``CANCELLED`` or ``FATAL`` → ``getReportDocument`` → the document (``documents.py``), read as
tab-separated text. A report that ends otherwise than ``DONE`` (Amazon cancels
reports with nothing to say, and some end ``FATAL``) or does not finish in time gives None: the caller
reads the range through the Orders API instead.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import datetime
from typing import Any

from .client import call
from .documents import download, poll
from .settings import AmazonSettings

ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
REPORTS = "reports/2021-06-30"
log = logging.getLogger(__name__)


def order_report(client: dict[str, Any], settings: AmazonSettings, start: datetime,
                 end: datetime) -> list[dict[str, str]] | None:
    """The report's rows (one per order item, keyed by the file's column names), or None when Amazon
    did not make it."""
    created = call(client, "POST", f"{REPORTS}/reports", json={
        "reportType": ALL_ORDERS, "marketplaceIds": [settings.marketplace_id],
        "dataStartTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "dataEndTime": end.strftime("%Y-%m-%dT%H:%M:%SZ")})
    report = poll(client, settings, f"{REPORTS}/reports/{created['reportId']}")
    status = report.get("processingStatus")
    if status != "DONE":
        log.warning("report %s of %s ended %s: reading the range through the Orders API instead",
                    created["reportId"], ALL_ORDERS, status)
        return None
    text = download(settings, call(client, "GET", f"{REPORTS}/documents/{report['reportDocumentId']}"))
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))
