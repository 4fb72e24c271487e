"""The U8 tables the connector reads, declared once: warehouse stream, source table, cursor.

Cursors name *source* columns (dlt applies the incremental before normalisation). The lags are
justified in README.md ("Late rows"): modification times are stamped before the transaction commits,
and a rowversion is taken at write time, so either can become visible behind newer values.
"""

from __future__ import annotations

from connectors.sdk import Cursor, Stream
from connectors.sdk.sql_source import SqlTable

SHANGHAI = "Asia/Shanghai"
MODIFIED_LAG = 900.0     # seconds: a voucher saved in a long transaction (month-end, a big import)
ROWVERSION_LAG = 20_000  # versions: the writes of the whole database during such a transaction


def _modified(column: str) -> Cursor:
    return Cursor(field=column, source_timezone=SHANGHAI, lag=MODIFIED_LAG, dedup_on_boundary=True)


ROWVERSION = Cursor(field="ufts", lag=ROWVERSION_LAG, dedup_on_boundary=True, versions=True)

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
