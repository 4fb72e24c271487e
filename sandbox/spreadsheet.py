"""A drop folder of store exports, written from the World the way real exports look.

Offline-store sales are .xlsx files with a merged title row, a two-level merged header in Chinese,
dates as date cells, Excel serials and text, prices partly typed as "¥1,234.50", blank rows and a
合计 row. Stock counts are CSVs from two tools: GBK with a title line (Chinese Windows Excel) and
UTF-8 with BOM. SKU codes and warehouse codes come from the World, so they agree with the ERP and
Shopify sandboxes. ``bad_rows`` adds the rows a merchant really sends: a quantity "12箱" and a line
without SKU, which must end in quarantine.

:class:`StoreExports` writes them into a kit :class:`~sandbox.kit.files.DropFolder` (row counts and
read faults).
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import Alignment, Font
from openpyxl.utils.datetime import to_excel

from .kit.files import DropFolder
from .launch import Launcher, Running
from .world import WAREHOUSES, World

SALES_TITLE = "{year}年{month}月 {store}销售明细"
SALES_HEADER_TOP = ["单据号", "日期", "商品信息", "商品信息", "数量", "金额(元)", "金额(元)", "门店"]
SALES_HEADER = ["单据号", "日期", "商品编码", "商品名称", "数量", "单价", "金额", "门店"]
STOCK_HEADER = ["盘点日期", "仓库编码", "商品编码", "商品名称", "实盘数量"]
STORE = WAREHOUSES[1][2]  # 上海门店
# What ``bad_rows`` adds to a sales file: a quantity with its unit typed in, a free gift without SKU.
BAD_SALES_ROWS = [["SH-ERR-1", "2026/3/5", "CH-0000-S", "T恤0000", "12箱", 10.0, 120.0, STORE],
                  ["SH-ERR-2", "2026年3月5日", None, "赠品", 1, 0, 0, STORE]]

# The mapping of these files, as it goes under the account's ``settings.streams`` in channelhub.yml.
DEFAULT_STREAMS: dict[str, dict[str, Any]] = {
    "offline_sales": {
        "pattern": "门店销售*.xlsx",
        "columns": {"receipt_no": ["单据号", "小票号"], "sale_date": ["日期", "销售日期"],
                    "sku": ["商品编码", "SKU"], "product_name": "商品名称", "quantity": "数量",
                    "unit_price": "单价", "amount": "金额", "store": "门店"},
        "types": {"sale_date": "date", "quantity": "integer", "unit_price": "decimal", "amount": "decimal"},
        "required": ["sale_date", "quantity", "amount"],
        "key": ["receipt_no", "sku"],
        "currency": "CNY",
    },
    "stock_counts": {
        "pattern": "库存盘点*.csv",
        "columns": {"count_date": "盘点日期", "warehouse": "仓库编码", "sku": "商品编码",
                    "product_name": "商品名称", "quantity": "实盘数量"},
        "types": {"count_date": "date", "quantity": "integer"},
        "required": ["quantity"],
        "key": ["sku", "warehouse", "count_date"],
    },
}


@dataclass(frozen=True)
class SalesLine:
    receipt_no: str
    sale_date: date
    sku: str
    product_name: str
    quantity: int
    unit_price: Decimal
    store: str = STORE

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


def sales_lines(world: World, n: int, *, start: int = 0, year: int = 2026, month: int = 3) -> list[SalesLine]:
    """Lines ``start`` .. ``start + n - 1`` of the store's sales: two lines per receipt, the same line
    index always giving the same line, independent of the World's own random state."""
    lines = []
    for i in range(start, start + n):
        rng = random.Random(world.spec.seed * 1_000_003 + i)
        sku = world.skus[(i * 37 + world.spec.seed) % len(world.skus)]
        day = date(year, month, 1 + (i // 2) % 28)
        lines.append(SalesLine(receipt_no=f"SH{day:%Y%m%d}-{i // 2:05d}", sale_date=day, sku=sku.code,
                               product_name=sku.product_zh, quantity=rng.choice((1, 1, 1, 2, 3)),
                               unit_price=sku.price("CNY")))
    return lines


def _date_cell(line: SalesLine, i: int) -> Any:
    """Every way a date shows up in store exports: date cell, bare serial, and three text forms."""
    d = line.sale_date
    return [datetime(d.year, d.month, d.day), int(to_excel(datetime(d.year, d.month, d.day))),
            f"{d.year}/{d.month}/{d.day}", f"{d.year}年{d.month}月{d.day}日", d.isoformat()][i % 5]


def _price_cell(line: SalesLine, i: int) -> Any:
    return f"¥{line.unit_price:,.2f}" if i % 7 == 3 else float(line.unit_price)


def sales_workbook(lines: list[SalesLine], *, year: int = 2026, month: int = 3, bad_rows: bool = False) -> bytes:
    """An .xlsx sales report: title rows, merged two-level header, data with a blank row in the
    middle and a 合计 row at the end; ``bad_rows`` appends two lines that must be quarantined."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "销售明细"
    sheet.append([SALES_TITLE.format(year=year, month=month, store=STORE)])
    sheet.merge_cells("A1:H1")
    sheet["A1"].font, sheet["A1"].alignment = Font(bold=True, size=14), Alignment(horizontal="center")
    sheet.append([f"门店: {STORE}    导出时间: {year}-{month:02d}-28 21:00"])
    sheet.merge_cells("A2:H2")
    sheet.append(SALES_HEADER_TOP)
    sheet.append(SALES_HEADER)
    for merged in ("A3:A4", "B3:B4", "C3:D3", "E3:E4", "F3:G3", "H3:H4"):
        sheet.merge_cells(merged)
    for i, line in enumerate(lines):
        if i == len(lines) // 2:
            sheet.append([])
        sheet.append([line.receipt_no, _date_cell(line, i), line.sku, line.product_name, line.quantity,
                      _price_cell(line, i), float(line.amount), line.store])
        if isinstance(_date_cell(line, i), datetime):
            sheet.cell(sheet.max_row, 2).number_format = "yyyy/m/d"
    if bad_rows:
        for row in BAD_SALES_ROWS:
            sheet.append(row)
    sheet.append([])
    sheet.append(["合计", None, None, None, sum(line.quantity for line in lines), None,
                  float(sum((line.amount for line in lines), Decimal(0))), None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sales_xls(lines: list[SalesLine], *, year: int = 2026, month: int = 3) -> bytes:
    """The same sales report as an Excel 97-2003 .xls, as legacy POS and ERP systems still export it:
    a merged title, the merged two-level header, dates as date cells."""
    import xlwt  # a test and demo dependency only: the connector reads .xls with xlrd

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("销售明细")
    sheet.write_merge(0, 0, 0, 7, SALES_TITLE.format(year=year, month=month, store=STORE))
    for c, (top, label) in enumerate(zip(SALES_HEADER_TOP, SALES_HEADER, strict=True)):
        if top == label:
            sheet.write_merge(1, 2, c, c, label)
        else:
            sheet.write(2, c, label)
    sheet.write_merge(1, 1, 2, 3, SALES_HEADER_TOP[2])
    sheet.write_merge(1, 1, 5, 6, SALES_HEADER_TOP[5])
    dated = xlwt.easyxf(num_format_str="yyyy/m/d")
    for r, line in enumerate(lines, start=3):
        d = line.sale_date
        values = [line.receipt_no, datetime(d.year, d.month, d.day), line.sku, line.product_name, line.quantity,
                  float(line.unit_price), float(line.amount), line.store]
        for c, value in enumerate(values):
            sheet.write(r, c, value, dated if c == 1 else xlwt.Style.default_style)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def stock_csv(world: World, warehouse: str, count_date: date, *, encoding: str, title: bool,
              bad_rows: bool = False) -> bytes:
    """A stock-take export of one warehouse: GBK from Chinese Excel (with a title line) or UTF-8 with
    BOM; ``bad_rows`` adds a line without SKU and one with quantity "盘点中"."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if title:
        name = next(zh for code, _, zh in WAREHOUSES if code == warehouse)
        writer.writerow([f"库存盘点表（{name}）"])
    writer.writerow(STOCK_HEADER)
    text_date = f"{count_date.year}/{count_date.month}/{count_date.day}" if title else count_date.isoformat()
    records = [record for record in world.stock if record.warehouse == warehouse]
    for record in records:
        writer.writerow([text_date, warehouse, record.sku.code, record.sku.product_zh, record.quantity])
    if bad_rows:
        writer.writerow([text_date, warehouse, "", "无编码商品", 3])
        writer.writerow([text_date, warehouse, records[0].sku.code + "-B", records[0].sku.product_zh, "盘点中"])
    return buffer.getvalue().encode(encoding)


class StoreExports(DropFolder):
    """The drop folder of a store: sales workbooks and stock-count CSVs rendered from the World."""

    def write_sales(self, name: str, lines: list[SalesLine], *, bad_rows: bool = False,
                    mtime: float | None = None) -> Path:
        return self.write(name, sales_workbook(lines, bad_rows=bad_rows), len(lines), mtime=mtime)

    def write_demo(self, world: World, *, sales_files: int = 3, lines_per_file: int = 40) -> None:
        """The shipped demo: monthly sales files (the last with bad rows) and two stock-count CSVs."""
        for n in range(sales_files):
            lines = sales_lines(world, lines_per_file, start=n * lines_per_file, month=1 + n)
            self.write_sales(f"门店销售_2026{1 + n:02d}.xlsx", lines, bad_rows=n == sales_files - 1)
        counted = date(2026, 3, 31)
        for code, encoding, title in (("01", "gbk", True), ("02", "utf-8-sig", False)):
            rows = sum(record.warehouse == code for record in world.stock)
            self.write(f"库存盘点_{code}_{counted:%Y%m%d}.csv",
                       stock_csv(world, code, counted, encoding=encoding, title=title, bad_rows=True), rows)


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    folder = Path(str(settings["folder"]))
    StoreExports(folder).write_demo(world)
    return Running(account, "spreadsheet", str(folder), lambda: None)


LAUNCHER = Launcher(_start)
