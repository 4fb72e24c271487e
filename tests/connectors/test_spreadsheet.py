"""The spreadsheet connector: the shared contract over a drop folder, and the export quirks it must
survive (encodings, title rows, merged headers, subtotals, dates, quarantine, per-file replace)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import sqlalchemy as sa
from openpyxl.utils.datetime import WINDOWS_EPOCH

from channelhub.config import HubConfig
from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, DropFolderEnv, PostgresParity
from connectors.sdk import ConfigError, files, get_connector
from connectors.spreadsheet import connector
from connectors.spreadsheet.client import OLE_SIGNATURE
from connectors.spreadsheet.values import CellError, to_date, to_datetime, to_decimal, to_integer
from sandbox.spreadsheet import (
    DEFAULT_STREAMS,
    SalesLine,
    StoreExports,
    sales_lines,
    sales_workbook,
    sales_xls,
    stock_csv,
)
from sandbox.world import World, WorldSpec
from warehouse import Warehouse

ACCOUNT = "store_sh"
T0 = datetime(2026, 4, 1, tzinfo=UTC).timestamp()


def hub_config(tmp_path: Path, folder: Path, streams: dict[str, Any] | None = None, **settings: Any) -> HubConfig:
    return HubConfig.model_validate({
        "warehouse": {"url": f"duckdb:///{tmp_path}/wh.duckdb"},
        "accounts": {ACCOUNT: {"connector": "spreadsheet", "settings": {
            "folder": str(folder), "streams": streams or DEFAULT_STREAMS, "max_wait_seconds": 0.01, **settings}}},
    })


@contextmanager
def served(drop: StoreExports) -> Iterator[StoreExports]:
    """Route the connector's file reads (the SDK's one I/O seam, ``files.read_bytes``) through the drop
    folder's fault switches and counters. Wired here, in the test: the sandbox never imports the SDK."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(files, "read_bytes", drop.read_bytes)
        yield drop


def query(config: HubConfig, sql: str) -> list[tuple]:
    with Warehouse(config.warehouse_url).engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql.replace("raw.", f"raw_{ACCOUNT}.")))]


# -- the contract -------------------------------------------------------------------------------------
class SpreadsheetEnv(DropFolderEnv):
    """``records`` sales lines in .xlsx files of ``page_size`` lines, beside one stock count (the file
    faults and counts are :class:`DropFolderEnv`'s)."""

    account = ACCOUNT
    primary_stream = "offline_sales"
    primary_key = "row_key"

    def __init__(self, tmp_path: Path, records: int, page_size: int) -> None:
        self.world = World(WorldSpec(orders=0))
        self.page_size = page_size
        self.exports = drop = StoreExports(tmp_path / "drop")
        self.files = [f"门店销售_{n:04d}.xlsx" for n in range(math.ceil(records / page_size))]
        for n, name in enumerate(self.files):
            drop.write_sales(name, sales_lines(self.world, min(page_size, records - n * page_size),
                                               start=n * page_size), mtime=self.tick())
        stock = stock_csv(self.world, "01", date(2026, 3, 31), encoding="utf-8-sig", title=False)
        drop.write("库存盘点_01_20260331.csv", stock, 0, mtime=self.tick())  # 0: not a sales line
        self.config = hub_config(tmp_path, drop.folder)
        self.serve(drop)

    def rewrite(self, name: str, mtime: float) -> None:
        """One more unit sold on each line of the file."""
        start = self.files.index(name) * self.page_size
        lines = [replace(line, quantity=line.quantity + 1)
                 for line in sales_lines(self.world, self.drop.rows_in[name], start=start)]
        self.exports.write_sales(name, lines, mtime=mtime)


class TestSpreadsheetContract(ConnectorContract):
    env_class = SpreadsheetEnv
    scenarios_in_quick_suite = True
    shared_records = 1_000  # one load path of each kind meets the full 1,000 sharing one cursor value


class TestSpreadsheetOnPostgres(PostgresParity):
    env_class = SpreadsheetEnv
    in_quick_suite = True  # make test's PostgreSQL parity of dropped files


# -- export quirks, end to end ------------------------------------------------------------------------
@pytest.fixture
def world() -> World:
    return World(WorldSpec(orders=0))


@pytest.fixture
def drop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StoreExports:
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    return StoreExports(tmp_path / "drop")


@pytest.fixture(params=["duckdb", "postgres"])
def any_warehouse(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on the DuckDB file of ``hub_config`` and on a fresh PostgreSQL database, where
    loads go through CSV/COPY: quarantine JSON, NUMERIC money and tombstones must survive both."""
    if request.param == "postgres":
        monkeypatch.setenv("CHANNELHUB_WAREHOUSE_URL", request.getfixturevalue("postgres_url"))
    return request.param


def sales_rows(config: HubConfig, file: str | None = None) -> list[tuple]:
    where = f"where source_file = '{file}'" if file else ""
    return query(config, f"select receipt_no, sale_date, sku, product_name, quantity, unit_price, amount, store, "
                         f"currency from raw.offline_sales {where} order by source_file, source_row")


def expected(lines: list[SalesLine]) -> list[tuple]:
    return [(x.receipt_no, x.sale_date, x.sku, x.product_name, x.quantity, x.unit_price, x.amount, x.store, "CNY")
            for x in lines]


def test_workbook_with_title_merged_header_blank_and_subtotal_rows(tmp_path: Path, drop: StoreExports,
                                                                   world: World) -> None:
    lines = sales_lines(world, 30)
    drop.write_sales("门店销售_202603.xlsx", lines)
    sheet = openpyxl.load_workbook(drop.folder / "门店销售_202603.xlsx").active
    assert sheet["A1"].value.startswith("2026年3月") and "A3:A4" in {str(r) for r in sheet.merged_cells.ranges}
    assert any(row[0] == "合计" for row in sheet.iter_rows(values_only=True))
    assert any(all(v is None for v in row) for row in sheet.iter_rows(values_only=True))
    config = hub_config(tmp_path, drop.folder)
    report = run_account(config, ACCOUNT)
    assert report.rows["offline_sales"] == 30
    # every line exactly as written: codes, Chinese names, dates in all five forms, "¥1,234.50" prices
    assert sales_rows(config) == expected(lines)
    assert query(config, "select count(*) from raw.quarantine") == [(0,)]  # 合计 and blank rows skipped


def test_dates_as_serials_date_cells_and_text(tmp_path: Path, drop: StoreExports, world: World) -> None:
    lines = sales_lines(world, 10)
    drop.write_sales("门店销售_dates.xlsx", lines)
    cells = [row[1] for row in openpyxl.load_workbook(drop.folder / "门店销售_dates.xlsx").active
             .iter_rows(min_row=5, max_row=9, values_only=True)]
    assert {type(c).__name__ for c in cells} == {"datetime", "int", "str"}
    config = hub_config(tmp_path, drop.folder)
    run_account(config, ACCOUNT)
    assert [row[0] for row in query(config, "select sale_date from raw.offline_sales order by source_row")] \
        == [line.sale_date for line in lines]


@pytest.mark.parametrize(("text", "day"), [
    ("2026/3/5", date(2026, 3, 5)), ("2026-03-05", date(2026, 3, 5)), ("2026年3月5日", date(2026, 3, 5)),
    ("2026.3.5", date(2026, 3, 5)), ("20260305", date(2026, 3, 5)), (20260305, date(2026, 3, 5)),
    (46086, date(2026, 3, 5)), (46086.75, date(2026, 3, 5)), ("46086", date(2026, 3, 5)),
    ("２０２６年３月５日", date(2026, 3, 5)), (datetime(2026, 3, 5, 9), date(2026, 3, 5)),
])
def test_date_forms(text: Any, day: date) -> None:
    assert to_date(text, WINDOWS_EPOCH) == day


def test_local_times_become_utc() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    assert to_datetime("2026/3/5 14:30", WINDOWS_EPOCH, shanghai) == datetime(2026, 3, 5, 6, 30, tzinfo=UTC)
    assert to_datetime("2026-03-05T14:30:00+00:00", WINDOWS_EPOCH, shanghai) \
        == datetime(2026, 3, 5, 14, 30, tzinfo=UTC)
    assert to_datetime(46086.5, WINDOWS_EPOCH, shanghai) == datetime(2026, 3, 5, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["2026/2/30", "3/5/2026", "昨天", 3, "12"])
def test_impossible_dates_are_refused(bad: Any) -> None:
    with pytest.raises(CellError, match="is not a date"):
        to_date(bad, WINDOWS_EPOCH)


@pytest.mark.parametrize(("value", "number"), [
    ("¥1,234.50", Decimal("1234.50")), ("￥1,234.50", Decimal("1234.50")), ("1,234.50元", Decimal("1234.50")),
    ("(1,234.50)", Decimal("-1234.50")), ("RMB 89", Decimal(89)), ("１２", Decimal(12)),
    (19.9, Decimal("19.9")), (0.1 + 0.2, Decimal("0.3")), (12, Decimal(12)), (" -3.5 ", Decimal("-3.5")),
])
def test_numbers(value: Any, number: Decimal) -> None:
    assert to_decimal(value) == number


def test_bad_numbers_name_the_value() -> None:
    with pytest.raises(CellError, match="'12箱' is not a number"):
        to_integer("12箱")
    with pytest.raises(CellError, match="'2.5' is not a whole number"):
        to_integer("2.5")
    with pytest.raises(CellError, match="is not a number"):
        to_decimal("1.2.3")


def test_gbk_csv_with_title_row(tmp_path: Path, drop: StoreExports, world: World) -> None:
    data = stock_csv(world, "01", date(2026, 3, 31), encoding="gbk", title=True)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    drop.write("库存盘点_01_20260331.csv", data, 0)
    config = hub_config(tmp_path, drop.folder)
    run_account(config, ACCOUNT)
    got = query(config, "select count_date, warehouse, sku, product_name, quantity from raw.stock_counts "
                        "order by source_row")
    assert got == [(date(2026, 3, 31), "01", r.sku.code, r.sku.product_zh, r.quantity)
                   for r in world.stock if r.warehouse == "01"]


def test_utf8_bom_csv(tmp_path: Path, drop: StoreExports, world: World) -> None:
    data = stock_csv(world, "02", date(2026, 3, 31), encoding="utf-8-sig", title=False)
    assert data.startswith(b"\xef\xbb\xbf")
    drop.write("库存盘点_02_20260331.csv", data, 0)
    config = hub_config(tmp_path, drop.folder)
    run_account(config, ACCOUNT)
    # the BOM sits on the first header (盘点日期): count_date is only filled if it was stripped
    got = query(config, "select count_date, warehouse, sku, product_name, quantity from raw.stock_counts "
                        "order by source_row")
    assert got == [(date(2026, 3, 31), "02", r.sku.code, r.sku.product_zh, r.quantity)
                   for r in world.stock if r.warehouse == "02"]


def test_bad_rows_go_to_quarantine_and_the_rest_loads(tmp_path: Path, drop: StoreExports, world: World,
                                                      any_warehouse: str) -> None:
    lines = sales_lines(world, 20)
    drop.write_sales("门店销售_bad.xlsx", lines, bad_rows=True)
    drop.write("库存盘点_01.csv", stock_csv(world, "01", date(2026, 3, 31), encoding="gbk", title=True,
                                         bad_rows=True), 0)
    config = hub_config(tmp_path, drop.folder)
    report = run_account(config, ACCOUNT)
    assert sales_rows(config) == expected(lines)
    assert report.rows["quarantine"] == 4
    sheet = openpyxl.load_workbook(drop.folder / "门店销售_bad.xlsx").active
    row_of = {row[0].value: row[0].row for row in sheet.iter_rows() if row[0].value}
    got = query(config, "select stream, source_file, source_sheet, source_row, reason, raw_values->>'quantity' "
                        "from raw.quarantine order by stream, source_row")
    stock_rows = sum(r.warehouse == "01" for r in world.stock)
    assert got == [
        ("offline_sales", "门店销售_bad.xlsx", "销售明细", row_of["SH-ERR-1"],
         "field 'quantity': '12箱' is not a number", "12箱"),
        ("offline_sales", "门店销售_bad.xlsx", "销售明细", row_of["SH-ERR-2"],
         "field 'sku': required value is missing", "1"),
        ("stock_counts", "库存盘点_01.csv", "", stock_rows + 3, "field 'sku': required value is missing", "3"),
        ("stock_counts", "库存盘点_01.csv", "", stock_rows + 4, "field 'quantity': '盘点中' is not a number", "盘点中"),
    ]
    assert query(config, "select count(*) from raw.stock_counts") == [(stock_rows,)]


def test_file_without_the_header_is_quarantined_whole(tmp_path: Path, drop: StoreExports, world: World) -> None:
    drop.write("库存盘点_other.csv", "货号,数量\nCH-0000-S,3\n".encode(), 0)
    config = hub_config(tmp_path, drop.folder)
    run_account(config, ACCOUNT)
    [(row, reason)] = query(config, "select source_row, reason from raw.quarantine")
    assert row == 0 and "sku (商品编码)" in reason and "quantity (实盘数量)" in reason


def test_same_file_twice_does_not_duplicate(tmp_path: Path, drop: StoreExports, world: World) -> None:
    drop.write_sales("门店销售_a.xlsx", sales_lines(world, 25, start=0), bad_rows=True, mtime=T0)
    drop.write_sales("门店销售_b.xlsx", sales_lines(world, 25, start=25), mtime=T0 + 60)
    config = hub_config(tmp_path, drop.folder)
    run_account(config, ACCOUNT)
    first = sales_rows(config)
    drop.set_mtime(["门店销售_a.xlsx", "门店销售_b.xlsx"], T0 + 120)  # touched: both are read again
    with served(drop):
        report = run_account(config, ACCOUNT)
        assert drop.reads == 2
    assert report.rows["offline_sales"] == 50
    assert sales_rows(config) == first
    assert query(config, "select count(*), count(distinct row_key) from raw.offline_sales") == [(50, 50)]
    assert query(config, "select count(*) from raw.quarantine") == [(2,)]


def test_unchanged_files_are_not_read_again(tmp_path: Path, drop: StoreExports, world: World) -> None:
    for n in range(4):
        drop.write_sales(f"门店销售_{n}.xlsx", sales_lines(world, 5, start=5 * n), mtime=T0 + 60 * n)
    config = hub_config(tmp_path, drop.folder)
    run_account(config, ACCOUNT)
    with served(drop):
        run_account(config, ACCOUNT)
    # only the newest file of the last run (the cursor boundary, closed range) is read again
    assert drop.reads == 1


def test_corrected_file_replaces_its_earlier_rows(tmp_path: Path, drop: StoreExports, world: World,
                                                  any_warehouse: str) -> None:
    drop.write_sales("门店销售_keep.xlsx", sales_lines(world, 10, start=100), mtime=T0)
    drop.write_sales("门店销售_fix.xlsx", sales_lines(world, 30), bad_rows=True, mtime=T0 + 60)
    config = hub_config(tmp_path, drop.folder)
    run_account(config, ACCOUNT)
    kept = sales_rows(config, "门店销售_keep.xlsx")
    assert len(sales_rows(config, "门店销售_fix.xlsx")) == 30

    # corrected: fewer lines, other quantities, the bad rows fixed away
    corrected = [replace(line, quantity=line.quantity + 4) for line in sales_lines(world, 30)[5:25]]
    drop.write_sales("门店销售_fix.xlsx", corrected, mtime=T0 + 120)
    run_account(config, ACCOUNT)
    assert sales_rows(config, "门店销售_fix.xlsx") == expected(corrected)
    assert sales_rows(config, "门店销售_keep.xlsx") == kept
    assert query(config, "select count(*) from raw.quarantine") == [(0,)]
    assert len({h for (h,) in query(config, "select file_hash from raw.offline_sales "
                                            "where source_file = '门店销售_fix.xlsx'")}) == 1

    # corrected again into a file of nothing but bad rows: no stale good rows survive
    drop.write_sales("门店销售_fix.xlsx", [], bad_rows=True, mtime=T0 + 180)
    run_account(config, ACCOUNT)
    assert sales_rows(config, "门店销售_fix.xlsx") == []
    assert query(config, "select count(*) from raw.quarantine where source_file = '门店销售_fix.xlsx'") == [(2,)]
    assert sales_rows(config, "门店销售_keep.xlsx") == kept


def test_money_is_exact_decimal_with_currency(tmp_path: Path, drop: StoreExports, world: World,
                                              any_warehouse: str) -> None:
    lines = sales_lines(world, 14)   # line 3 and 10 carry the price as text "¥1,234.50"
    drop.write_sales("门店销售_money.xlsx", lines)
    config = hub_config(tmp_path, drop.folder)
    run_account(config, ACCOUNT)
    types = dict(query(config, f"select column_name, upper(data_type) from information_schema.columns "
                               f"where table_schema = 'raw_{ACCOUNT}' and table_name = 'offline_sales'"))
    assert types["unit_price"].startswith(("DECIMAL", "NUMERIC")), types
    assert types["amount"].startswith(("DECIMAL", "NUMERIC")), types
    got = query(config, "select unit_price, amount, currency from raw.offline_sales order by source_row")
    assert got == [(x.unit_price, x.unit_price * x.quantity, "CNY") for x in lines]
    assert sum(a for _, a, _ in got) == sum((x.amount for x in lines), Decimal(0))


@pytest.mark.reliability
def test_a_damaged_file_is_quarantined_and_the_other_files_load(tmp_path: Path, drop: StoreExports,
                                                               world: World) -> None:
    """A damaged, encrypted, empty or junk file is quarantined by name; the other files load."""
    drop.write_sales("门店销售_1.xlsx", sales_lines(world, 10), mtime=T0)
    config = hub_config(tmp_path, drop.folder)
    run_account(config, ACCOUNT)
    loaded = sales_rows(config)
    drop.write_sales("门店销售_2.xlsx", sales_lines(world, 10, start=10), mtime=T0 + 60)
    drop.corrupt("门店销售_2.xlsx")
    drop.write_sales("门店销售_3.xlsx", sales_lines(world, 10, start=20), mtime=T0 + 60)
    drop.write("门店销售_4.xlsx", OLE_SIGNATURE + bytes(600), 0, mtime=T0 + 60)  # saved with a password
    drop.write("门店销售_5.xlsx", b"", 0, mtime=T0 + 60)  # an export that wrote nothing
    drop.write_sales("门店销售_1.xlsx", sales_lines(world, 10), mtime=T0 + 60)
    (drop.folder / "门店销售_1.xlsx").write_bytes((drop.folder / "门店销售_1.xlsx").read_bytes()[:900])  # cut short
    os.utime(drop.folder / "门店销售_1.xlsx", (T0 + 60, T0 + 60))
    drop.write("库存盘点_junk.csv", bytes(range(256)) * 4, 0, mtime=T0 + 60)
    report = run_account(config, ACCOUNT)
    assert len(sales_rows(config)) == 20 and set(loaded) <= set(sales_rows(config))  # file 1 kept, 3 added
    reasons = dict(query(config, "select source_file, reason from raw.quarantine where source_row = 0"))
    assert "truncated or damaged" in reasons["门店销售_1.xlsx"]
    assert "not a readable Excel workbook" in reasons["门店销售_2.xlsx"] or "damaged" in reasons["门店销售_2.xlsx"]
    assert "encrypted (saved with a password)" in reasons["门店销售_4.xlsx"]
    assert "the file is empty (0 bytes)" in reasons["门店销售_5.xlsx"]
    assert "binary data" in reasons["库存盘点_junk.csv"]
    assert query(config, f"select location from ops.quarantine where run_id = '{report.run_id}' order by 1") == [
        (f"file {name}",) for name in sorted(reasons)]
    time.sleep(0.01)
    drop.write_sales("门店销售_2.xlsx", sales_lines(world, 10, start=10))  # exported again, now
    run_account(config, ACCOUNT)
    assert len(sales_rows(config)) == 30


def test_legacy_xls_exports_load_like_xlsx(tmp_path: Path, drop: StoreExports, world: World) -> None:
    lines = sales_lines(world, 12)
    drop.write("门店销售_legacy.xls", sales_xls(lines), len(lines), mtime=T0)
    config = hub_config(tmp_path, drop.folder, {"offline_sales": {**DEFAULT_STREAMS["offline_sales"],
                                                                   "pattern": "门店销售*.xls"}})
    report = run_account(config, ACCOUNT)
    assert report.rows["offline_sales"] == 12 and sales_rows(config) == expected(lines)


def test_unmapped_columns_are_reported_once_per_file(tmp_path: Path, drop: StoreExports, world: World) -> None:
    data = stock_csv(world, "01", date(2026, 3, 31), encoding="utf-8", title=False).decode("utf-8").splitlines()
    data = [data[0] + ",批次", *(line + ",B1" for line in data[1:])]
    drop.write("库存盘点_01_20260331.csv", "\n".join(data).encode("utf-8"), 0)
    config = hub_config(tmp_path, drop.folder)
    report = run_account(config, ACCOUNT)
    assert query(config, f"select note from ops.run_log where run_id = '{report.run_id}' and stream = 'stock_counts'") \
        == [("库存盘点_01_20260331.csv: columns not in the mapping, not loaded: 批次",)]


def test_file_still_being_written_is_read_again(tmp_path: Path, drop: StoreExports, world: World,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    lines = sales_lines(world, 12)
    complete = sales_workbook(lines)
    path = drop.folder / "门店销售_copying.xlsx"
    path.write_bytes(complete[:1000])
    reads: list[int] = []

    def copying(file: Any) -> bytes:
        target = drop.folder / file["relative_path"]
        data = target.read_bytes()
        reads.append(len(data))
        if len(data) < len(complete):
            target.write_bytes(complete)   # the copy finishes while we read
        return data

    monkeypatch.setattr(files, "read_bytes", copying)
    config = hub_config(tmp_path, drop.folder)
    run_account(config, ACCOUNT)
    assert reads == [1000, len(complete)]
    assert sales_rows(config) == expected(lines)


def test_file_locked_for_good_fails_after_retries(tmp_path: Path, drop: StoreExports, world: World) -> None:
    drop.write_sales("门店销售_locked.xlsx", sales_lines(world, 3))
    drop.faults.locked = 100
    config = hub_config(tmp_path, drop.folder, max_attempts=3)
    with served(drop), pytest.raises(RunFailed, match=r"门店销售_locked.xlsx.*cannot read after 3 attempts"):
        run_account(config, ACCOUNT)
    assert drop.faults.locked == 97


def test_lock_and_hidden_files_are_not_exports(drop: StoreExports, world: World) -> None:
    drop.write_sales("门店销售_1.xlsx", sales_lines(world, 1))
    (drop.folder / "~$门店销售_1.xlsx").write_bytes(b"owner file Excel keeps next to an open workbook")
    (drop.folder / ".门店销售_2.xlsx").write_bytes(b"editor temp file")
    assert [f["file_name"] for f in files.list_files(str(drop.folder), "*.xlsx")] == ["门店销售_1.xlsx"]


def test_check(tmp_path: Path, drop: StoreExports, world: World) -> None:
    missing = hub_config(tmp_path, tmp_path / "nowhere").account(ACCOUNT)
    assert not connector.check(missing).ok
    drop.write_sales("门店销售_1.xlsx", sales_lines(world, 3))
    config = hub_config(tmp_path, drop.folder)
    result = connector.check(config.account(ACCOUNT))
    assert result.ok, result.detail
    assert result.facts == {"offline_sales": ["门店销售_1.xlsx"], "stock_counts": []}
    drop.write("库存盘点_x.csv", "货号,数量\n".encode(), 0)
    result = connector.check(config.account(ACCOUNT))
    assert not result.ok and "库存盘点_x.csv" in result.detail and "实盘数量" in result.detail
    drop.write_sales("门店销售_2.xlsx", sales_lines(world, 3))
    drop.write("门店销售_0.xlsx", OLE_SIGNATURE + bytes(600), 0, mtime=T0)  # an older file, not the newest
    result = connector.check(config.account(ACCOUNT))
    assert "门店销售_0.xlsx: the workbook is encrypted" in result.detail and "门店销售_1" not in result.detail


def test_settings_are_validated(tmp_path: Path) -> None:
    broken = {"offline_sales": {**DEFAULT_STREAMS["offline_sales"], "key": ["receipt", "sku"]}}
    with pytest.raises(ConfigError, match="key names columns not in columns: \\['receipt'\\]"):
        hub_config(tmp_path, tmp_path, broken).account(ACCOUNT)
    with pytest.raises(ConfigError, match="quarantine"):
        hub_config(tmp_path, tmp_path, {"quarantine": DEFAULT_STREAMS["stock_counts"]}).account(ACCOUNT)


def test_registered_under_its_name() -> None:
    assert get_connector("spreadsheet") is connector
    assert {s.name for s in connector.streams} == {"offline_sales", "stock_counts", "quarantine"}


def test_demo_folder_loads(tmp_path: Path, drop: StoreExports, world: World) -> None:
    drop.write_demo(world)
    config = hub_config(tmp_path, drop.folder)
    report = run_account(config, ACCOUNT)
    assert report.rows == {"offline_sales": 120, "stock_counts": len(world.stock), "quarantine": 6}

