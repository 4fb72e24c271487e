"""A Guanjiapo (管家婆) database built from the World, in the shape of the connector's shipped mapping.

No vendor schema was found: the tables and columns are the ones third-party code shows (``ptype``,
``stock``, ``Btype``, ``Dlyndx``) plus the assumed ones the shipped mapping names (``GoodsStocks``,
``DlySale``, ``Dlyndx.UpdateTime``), so the sandbox proves the connector reads what its mapping says, not
that the mapping fits every edition. What it copies of the product: string type ids (``typeId``, e.g.
``00001``) that documents and stock reference instead of the user's codes, naive local times in
Asia/Shanghai, money and quantities as DECIMAL, sales documents with ``VchType`` 11.

The World's SKUs, stock and customers are rendered whole; the sales documents are the orders of one
World shop (``shop``; the launcher takes the account's name), the merchant's offline/distributor sales
booked in Guanjiapo, so no other channel's orders are counted twice. A World without that shop (the
shipped demo's) gives no sales documents. The database, its wire front on MariaDB and
stored bad values on SQLite are the kit's (:mod:`sandbox.kit.database`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from .kit.database import DatabaseSandbox
from .launch import Launcher, Running
from .world import WAREHOUSES, Order, World

SHANGHAI = ZoneInfo("Asia/Shanghai")
SALES = 11  # VchType of a sales document, as the shipped mapping assumes
POSTED = 2  # Draft of a posted document (a script reads Draft=2); unverified, carried as it is

metadata = sa.MetaData()
MONEY, QTY = sa.Numeric(18, 2), sa.Numeric(18, 4)

ptype = sa.Table(
    "ptype", metadata,
    sa.Column("typeId", sa.String(25), primary_key=True),
    sa.Column("UserCode", sa.String(50), nullable=False),
    sa.Column("FullName", sa.String(200), nullable=False),
    sa.Column("Standard", sa.String(100)),
    sa.Column("Unit1", sa.String(20)),
    sa.Column("BarCode", sa.String(50)),
)
stock = sa.Table(
    "stock", metadata,
    sa.Column("typeId", sa.String(25), primary_key=True),
    sa.Column("UserCode", sa.String(50), nullable=False),
    sa.Column("FullName", sa.String(100), nullable=False),
)
goods_stocks = sa.Table(
    "GoodsStocks", metadata,
    sa.Column("PtypeId", sa.String(25), primary_key=True),
    sa.Column("KtypeId", sa.String(25), primary_key=True),
    sa.Column("Qty", QTY),
)
btype = sa.Table(
    "Btype", metadata,
    sa.Column("typeId", sa.String(25), primary_key=True),
    sa.Column("UserCode", sa.String(50), nullable=False),
    sa.Column("FullName", sa.String(200), nullable=False),
    sa.Column("Contact", sa.String(50)),
    sa.Column("Tel", sa.String(60)),
)
dlyndx = sa.Table(
    "Dlyndx", metadata,
    sa.Column("VchCode", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("Number", sa.String(50), nullable=False),
    sa.Column("Date", sa.Date, nullable=False),
    sa.Column("VchType", sa.Integer, nullable=False),
    sa.Column("BtypeId", sa.String(25)),
    sa.Column("EtypeId", sa.String(25)),
    sa.Column("KtypeId", sa.String(25)),
    sa.Column("Total", MONEY),
    sa.Column("Draft", sa.Integer),
    sa.Column("Memo", sa.String(200)),
    sa.Column("UpdateTime", sa.DateTime, index=True),
)
dly_sale = sa.Table(
    "DlySale", metadata,
    sa.Column("DlyCode", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("VchCode", sa.Integer, nullable=False, index=True),
    sa.Column("VchType", sa.Integer, nullable=False),
    sa.Column("PtypeId", sa.String(25), nullable=False),
    sa.Column("KtypeId", sa.String(25)),
    sa.Column("Qty", QTY),
    sa.Column("Price", QTY),
    sa.Column("Total", MONEY),
)


def local(moment: datetime) -> datetime:
    """A UTC world time as Guanjiapo stores it: Shanghai wall-clock time, no zone."""
    return moment.astimezone(SHANGHAI).replace(tzinfo=None)


def type_id(n: int) -> str:
    """Guanjiapo's internal id of a record (goods, warehouse, partner): zero-padded, not the user's code."""
    return f"{n:05d}"


class GuanjiapoSandbox(DatabaseSandbox):
    """One emulated Guanjiapo database: the world it mirrors and the edits its users make."""

    metadata = metadata

    def __init__(self, url: str, world: World, shop: str) -> None:
        super().__init__(url)
        self.world, self.shop = world, shop
        self._numbers: dict[int, int] = {}   # world order id -> VchCode

    def orders(self) -> list[Order]:
        """The World orders booked here as sales documents: the shop's."""
        return self.world.orders_of(self.shop)

    def build(self) -> GuanjiapoSandbox:
        world = self.world
        goods = {sku.code: type_id(sku.index + 1) for sku in world.skus}
        stores = {code: type_id(i + 1) for i, (code, *_) in enumerate(WAREHOUSES)}
        rows: dict[str, list[dict[str, Any]]] = {
            "ptype": [{"typeId": goods[s.code], "UserCode": s.code, "FullName": s.product_zh, "Standard": s.variant,
                       "Unit1": "个", "BarCode": s.barcode} for s in world.skus],
            "stock": [{"typeId": stores[code], "UserCode": code, "FullName": name_zh}
                      for code, _, name_zh in WAREHOUSES],
            "GoodsStocks": [{"PtypeId": goods[s.sku.code], "KtypeId": stores[s.warehouse], "Qty": s.quantity}
                            for s in world.stock],
            "Btype": [{"typeId": type_id(c.id), "UserCode": f"C{c.id:05d}", "FullName": f"{c.last_name}{c.first_name}",
                       "Contact": f"{c.first_name} {c.last_name}", "Tel": c.in_erp[1]} for c in world.customers],
            "Dlyndx": [], "DlySale": [],
        }
        main = stores[WAREHOUSES[0][0]]
        for number, order in enumerate(self.orders(), start=1):
            self._numbers[order.id] = number
            day = local(order.created_at)
            rows["Dlyndx"].append({
                "VchCode": number, "Number": f"XS-{day:%Y-%m-%d}-{number:05d}", "Date": day.date(), "VchType": SALES,
                "BtypeId": type_id(order.customer.id), "EtypeId": "00001", "KtypeId": main, "Total": order.total,
                "Draft": POSTED, "Memo": f"{order.shop} #{order.number}", "UpdateTime": local(order.updated_at)})
            rows["DlySale"].extend({
                "DlyCode": line.id, "VchCode": number, "VchType": SALES, "PtypeId": goods[line.sku.code], "KtypeId": main,
                "Qty": line.quantity, "Price": line.unit_price, "Total": line.amount} for line in order.lines)
        self.recreate(rows)
        return self

    # -- edits mirroring the world ----------------------------------------------------------------------
    def touch(self, fraction: float) -> list[Order]:
        """Edit ``fraction`` of the world's orders; returns those booked here (a new UpdateTime each)."""
        return self._update(self.world.touch_orders(fraction))

    def share_timestamp(self, n: int) -> int:
        """Give the first ``n`` world orders one identical UpdateTime (the cursor's boundary case)."""
        self.world.share_timestamp(n)
        return len(self._update(self.world.orders[:n]))

    def _update(self, orders: list[Order]) -> list[Order]:
        ours = [order for order in orders if order.id in self._numbers]
        if ours:
            with self.engine.begin() as conn:
                conn.execute(dlyndx.update().where(dlyndx.c.VchCode == sa.bindparam("key")), [
                    {"key": self._numbers[o.id], "UpdateTime": local(o.updated_at)} for o in ours])
        return ours


def build_guanjiapo(url: str, world: World, shop: str) -> GuanjiapoSandbox:
    """Create (or recreate) the Guanjiapo tables at ``url`` (a SQLite path or SQLAlchemy URL) from
    ``world``, with the orders of ``shop`` as its sales documents."""
    return GuanjiapoSandbox(url, world, shop).build()


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    url = str(settings["url"])
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    sandbox = build_guanjiapo(url, world, account)
    return Running(account, "guanjiapo", sandbox.url.render_as_string(hide_password=True), sandbox.close, sandbox)


LAUNCHER = Launcher(_start)
