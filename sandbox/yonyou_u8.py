"""A Yonyou U8 company database (``UFDATA_<account>_<year>`` on a real server) built from the World.

The same SQLAlchemy Core code writes SQLite (a file, the default) and MariaDB (a URL), so the
connector is tested against a real database server without SQL Server. What U8 does and the
emulator copies: naive local times in Asia/Shanghai, money as DECIMAL, one ``ufts`` rowversion
counter per database bumped on every write, no modification time on sales order lines.

Every world order becomes a sales order (the ERP is the merchant's order book), SKUs and stock are
the world's, so the ERP agrees with the channel sandboxes. :meth:`U8Sandbox.bulk_orders` adds
synthetic B2B orders for benchmarks (10 lines each) without materialising a World of that size.

The database, its wire front on MariaDB (row counts, refused connections, dropped reads, zero dates)
and stored bad values on SQLite are the kit's (:mod:`sandbox.kit.database`).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from .kit.database import DatabaseSandbox
from .launch import Launcher, Running
from .world import WAREHOUSES, World

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHUNK = 20_000  # bulk lines written per executemany
# U8 stores the currency *name* of the voucher, in Chinese, not an ISO code.
CURRENCY_NAMES = {"CNY": "人民币", "USD": "美元", "EUR": "欧元", "GBP": "英镑"}

metadata = sa.MetaData()
MONEY, PRICE, QTY = sa.Numeric(20, 2), sa.Numeric(28, 6), sa.Numeric(20, 6)

inventory = sa.Table(
    "Inventory", metadata,
    sa.Column("cInvCode", sa.String(60), primary_key=True),
    sa.Column("cInvName", sa.String(255), nullable=False),
    sa.Column("cInvStd", sa.String(60)),
    sa.Column("cInvAddCode", sa.String(60)),
    sa.Column("cComUnitCode", sa.String(35)),
    sa.Column("cInvCCode", sa.String(12)),
    sa.Column("dModifyDate", sa.DateTime, index=True),
)
warehouse = sa.Table(
    "Warehouse", metadata,
    sa.Column("cWhCode", sa.String(10), primary_key=True),
    sa.Column("cWhName", sa.String(20), nullable=False),
)
current_stock = sa.Table(
    "CurrentStock", metadata,
    sa.Column("AutoID", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("cWhCode", sa.String(10), nullable=False),
    sa.Column("cInvCode", sa.String(60), nullable=False),
    sa.Column("cBatch", sa.String(60), nullable=False, server_default=""),
    sa.Column("iQuantity", QTY),
    sa.Column("fOutQuantity", QTY),
    sa.Column("fInQuantity", QTY),
    sa.Column("fAvaQuantity", QTY),
    sa.Column("ufts", sa.BigInteger, nullable=False, index=True),
)
customer = sa.Table(
    "Customer", metadata,
    sa.Column("cCusCode", sa.String(20), primary_key=True),
    sa.Column("cCusName", sa.String(98), nullable=False),
    sa.Column("cCusEmail", sa.String(100)),
    sa.Column("cCusPhone", sa.String(100)),
    sa.Column("dModifyDate", sa.DateTime, index=True),
)
so_main = sa.Table(
    "SO_SOMain", metadata,
    sa.Column("ID", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("cSOCode", sa.String(30), nullable=False),
    sa.Column("dDate", sa.Date, nullable=False),
    sa.Column("cCusCode", sa.String(20)),
    sa.Column("cCusName", sa.String(98)),
    sa.Column("cVerifier", sa.String(20)),
    sa.Column("cCloser", sa.String(20)),
    sa.Column("cexch_name", sa.String(8)),
    sa.Column("cDefine1", sa.String(20)),  # the web order id, as merchants' order imports store it
    sa.Column("dcreatesystime", sa.DateTime),
    sa.Column("dmodifysystime", sa.DateTime, index=True),
    sa.Column("ufts", sa.BigInteger, nullable=False, index=True),
)
so_details = sa.Table(
    "SO_SODetails", metadata,
    sa.Column("iSOsID", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("ID", sa.Integer, sa.ForeignKey("SO_SOMain.ID"), nullable=False, index=True),
    sa.Column("cSOCode", sa.String(30), nullable=False),
    sa.Column("cInvCode", sa.String(60), nullable=False),
    sa.Column("iQuantity", QTY),
    sa.Column("iFHQuantity", QTY),
    sa.Column("iTaxUnitPrice", PRICE),
    sa.Column("iSum", MONEY),
    sa.Column("ufts", sa.BigInteger, nullable=False, index=True),
)


def local(moment: datetime) -> datetime:
    """A UTC world time as U8 stores it: Shanghai wall-clock time, no zone."""
    return moment.astimezone(SHANGHAI).replace(tzinfo=None)


class U8Sandbox(DatabaseSandbox):
    """One emulated U8 database: the world it mirrors and the mutations U8 users make."""

    metadata = metadata

    def __init__(self, url: str, world: World) -> None:
        super().__init__(url)
        self.world = world
        self._order_ids: dict[int, int] = {}   # world order id -> SO_SOMain.ID

    # -- build ------------------------------------------------------------------------------------
    def build(self) -> U8Sandbox:
        self._catch_up_clock()
        world, ufts = self.world, count(max(s.version for s in self.world.stock) + 1)
        rows: dict[str, list[dict[str, Any]]] = {
            "Inventory": [{"cInvCode": s.code, "cInvName": s.product_zh, "cInvStd": s.variant, "cInvAddCode": s.barcode,
                               "cComUnitCode": "PCS", "cInvCCode": f"{s.index // 40:02d}",
                               "dModifyDate": local(s.modified_at)} for s in world.skus],
            "Warehouse": [{"cWhCode": code, "cWhName": name_zh} for code, _, name_zh in WAREHOUSES],
            "CurrentStock": [{"AutoID": i + 1, "cWhCode": s.warehouse, "cInvCode": s.sku.code, "cBatch": "",
                                  "iQuantity": s.quantity, "fOutQuantity": 0, "fInQuantity": 0, "fAvaQuantity": s.quantity,
                                  "ufts": s.version} for i, s in enumerate(world.stock)],
            "Customer": [{"cCusCode": str(c.id), "cCusName": f"{c.first_name} {c.last_name}", "cCusEmail": c.in_erp[0],
                              "cCusPhone": c.in_erp[1], "dModifyDate": local(c.updated_at)} for c in world.customers],
            "SO_SOMain": [], "SO_SODetails": [],
        }
        for number, order in enumerate(world.orders, start=1):
            self._order_ids[order.id] = number
            rows["SO_SOMain"].append(self._header(number, order, next(ufts)))
            rows["SO_SODetails"].extend(self._lines(number, order, ufts))
        self.recreate(rows)
        return self

    def _catch_up_clock(self) -> None:
        """World orders may carry an ``updated_at`` after ``world.now`` (created late, updated hours
        later); move the clock past them so every mutation gets a newer dmodifysystime, as on a real
        server whose clock only moves forward. Mutates the shared world, as every mutation does."""
        latest = max((o.updated_at for o in self.world.orders), default=self.world.now)
        if latest > self.world.now:
            self.world.tick(int((latest - self.world.now).total_seconds()) + 1)

    def _header(self, number: int, order: Any, ufts: int) -> dict[str, Any]:
        created = local(order.created_at)
        return {"ID": number, "cSOCode": f"SO{number:08d}", "dDate": created.date(), "cCusCode": str(order.customer.id),
                    "cCusName": f"{order.customer.first_name} {order.customer.last_name}",
                    "cVerifier": None if order.financial_status == "pending" else "demo",
                    "cCloser": "demo" if order.cancelled_at else None, "cexch_name": CURRENCY_NAMES[order.currency],
                    "cDefine1": str(order.id), "dcreatesystime": created, "dmodifysystime": local(order.updated_at),
                    "ufts": ufts}

    def _lines(self, number: int, order: Any, ufts: Any) -> list[dict[str, Any]]:
        shipped = order.fulfillment_status == "fulfilled"
        return [{"iSOsID": line.id, "ID": number, "cSOCode": f"SO{number:08d}", "cInvCode": line.sku.code,
                     "iQuantity": line.quantity, "iFHQuantity": line.quantity if shipped else 0,
                     "iTaxUnitPrice": line.unit_price, "iSum": line.amount, "ufts": next(ufts)} for line in order.lines]

    def bulk_orders(self, lines: int, *, lines_per_order: int = 10, seed: int = 7) -> int:
        """Append synthetic B2B sales orders with ``lines`` lines in total; returns rows written.

        Rows are plain tuples sent through the driver's ``executemany`` in chunks (pymysql rewrites them
        into multi-row INSERTs), so a million lines take seconds, not a World of a million orders.
        """
        rng, skus, customers = random.Random(seed), self.world.skus, self.world.customers
        first_id = self.max("SO_SOMain", "ID") + 1
        first_line = max(self.max("SO_SODetails", "iSOsID"), 10**12) + 1
        ufts = self._ufts()
        base = local(self.world.now) - timedelta(days=self.world.spec.days)
        headers, details, written = [], [], 0
        for n in range((lines + lines_per_order - 1) // lines_per_order):
            number, buyer = first_id + n, customers[n % len(customers)]
            moment = base + timedelta(seconds=rng.randrange(self.world.spec.days * 86_400))
            code = f"SO{number:08d}"
            headers.append((number, code, moment.date(), str(buyer.id), f"{buyer.first_name} {buyer.last_name}",
                            "demo", None, CURRENCY_NAMES["CNY"], None, moment, moment, next(ufts)))
            for k in range(min(lines_per_order, lines - n * lines_per_order)):
                sku, qty = skus[rng.randrange(len(skus))], rng.randrange(1, 50)
                price = sku.price("CNY")
                details.append((first_line + written, number, code, sku.code, str(qty), "0", str(price),
                                str(price * qty), next(ufts)))
                written += 1
            if len(details) >= CHUNK:
                self.insert_raw(so_main, headers)
                self.insert_raw(so_details, details)
                headers, details = [], []
        self.insert_raw(so_main, headers)
        self.insert_raw(so_details, details)
        return written + (lines + lines_per_order - 1) // lines_per_order

    # -- mutations mirroring the world --------------------------------------------------------------
    def _ufts(self) -> Iterator[int]:
        """The rowversion counter, continued from the database's current maximum."""
        return count(max(self.max(name, "ufts") for name in ("CurrentStock", "SO_SOMain", "SO_SODetails")) + 1)

    def touch(self, fraction: float) -> list[Any]:
        """Modify ``fraction`` of the world's orders in U8 (new dmodifysystime and ufts); returns them."""
        touched = self.world.touch_orders(fraction)
        self._update_orders(touched)
        return touched

    def share_timestamp(self, n: int) -> int:
        """Give ``n`` sales orders one identical dmodifysystime (the cursor's boundary case)."""
        self.world.share_timestamp(n)
        return self._update_orders(self.world.orders[:n])

    def _update_orders(self, orders: list[Any]) -> int:
        ufts = self._ufts()
        with self.engine.begin() as conn:
            conn.execute(so_main.update().where(so_main.c.ID == sa.bindparam("key")), [
                {"key": self._order_ids[o.id], "dmodifysystime": local(o.updated_at), "ufts": next(ufts),
                     "cCloser": "demo" if o.cancelled_at else None} for o in orders])
        return len(orders)

    def change_stock(self, fraction: float) -> int:
        """Change ``fraction`` of the stock records as the world does; each gets a new ufts."""
        changed = self.world.change_stock(fraction)
        index = {(s.sku.code, s.warehouse): i + 1 for i, s in enumerate(self.world.stock)}
        ufts = self._ufts()
        with self.engine.begin() as conn:
            conn.execute(current_stock.update().where(current_stock.c.AutoID == sa.bindparam("key")), [
                {"key": index[(s.sku.code, s.warehouse)], "iQuantity": s.quantity, "fAvaQuantity": s.quantity,
                     "ufts": next(ufts)} for s in changed])
        return len(changed)


def build_u8(url: str, world: World, *, bulk_lines: int = 0) -> U8Sandbox:
    """Create (or recreate) the U8 tables at ``url`` (a SQLite path or SQLAlchemy URL) from ``world``,
    plus ``bulk_lines`` synthetic sales order lines for benchmarks."""
    sandbox = U8Sandbox(url, world).build()
    if bulk_lines:
        sandbox.bulk_orders(bulk_lines)
    return sandbox


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    url = str(settings["url"])
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    sandbox = build_u8(url, world)
    return Running(account, "yonyou_u8", sandbox.url.render_as_string(hide_password=True), sandbox.close, sandbox)


LAUNCHER = Launcher(_start)
