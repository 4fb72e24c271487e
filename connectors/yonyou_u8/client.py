"""The U8 tables the connector reads, declared once: warehouse stream, source table, cursor.

Cursors name *source* columns (dlt applies the incremental before normalisation). Modification
times are naive Shanghai wall-clock times; ``lag`` re-reads the last minute because U8 stamps
``dmodifysystime`` on the application server before the transaction commits, and with a lag dlt
leaves boundary de-duplication to the merge on the primary key. ``ufts`` is SQL Server's
rowversion: unique and monotonic per database, so it needs no lag in the common case.
"""

from __future__ import annotations

from connectors.sdk import Cursor, Stream
from connectors.sdk.sql_source import SqlTable

SHANGHAI = "Asia/Shanghai"
MODIFIED_LAG = 60.0


def _modified(column: str) -> Cursor:
    return Cursor(field=column, source_timezone=SHANGHAI, lag=MODIFIED_LAG, dedup_on_boundary=True)


ROWVERSION = Cursor(field="ufts", dedup_on_boundary=True)

TABLES = (
    SqlTable("Inventory", Stream("inventory", ("cInvCode",), "merge", _modified("dModifyDate"),
                                 "Items (存货档案): code = the merchant SKU, Chinese name, barcode, unit, class.")),
    SqlTable("Warehouse", Stream("warehouse", ("cWhCode",), "replace", None,
                                 "Warehouses (仓库档案); a handful of rows, reloaded every run.")),
    SqlTable("CurrentStock", Stream("current_stock", ("AutoID",), "merge", ROWVERSION,
                                    "On-hand, to-ship, to-receive and available quantity per warehouse, item, batch.",
                                    unique=("cWhCode", "cInvCode", "cBatch"), not_null=("iQuantity",))),
    SqlTable("Customer", Stream("customer", ("cCusCode",), "merge", _modified("dModifyDate"),
                                "Customers (客户档案).")),
    SqlTable("SO_SOMain", Stream("so_somain", ("ID",), "merge", _modified("dmodifysystime"),
                                 "Sales order headers (销售订单主表).")),
    SqlTable("SO_SODetails", Stream("so_sodetails", ("iSOsID",), "merge", ROWVERSION,
                                    "Sales order lines; no modification time, so read by rowversion.")),
)
