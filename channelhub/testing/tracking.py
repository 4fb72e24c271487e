"""The contract's env for a tracker (:class:`connectors.sdk.tracking.WaybillTracker`): a sandbox rendering
the World's parcels, and the waybills the hub already knows written into the env's warehouse.

A tracker lists nothing: the runner hands it the unfinished parcels of its carriers from
``marts.fct_shipments`` (``channelhub/tracking.py``). So the env writes a minimal ``marts.fct_shipments``
(the columns the runner reads), ``marts.fct_orders`` and ``marts.dim_customers`` (the buyers'
phones) from the World's parcels of the account's carriers, and the contract's words read for a tracker as follows:

* records: the waybills the hub knows, each a row of the primary stream once answered;
* a change (:meth:`TrackerEnv.change`): the hub builds its marts on the tracker's answers (parcels
  delivered or returned are finished and asked about no more), time passes, and new parcels ship; the
  next run asks about the unfinished ones only, which is what ``change`` returns;
* one shared cursor value: a batch of parcels shipped together, which the hub learns of at once;
* a fresh warehouse (:meth:`seed_warehouse`): the hub knows every waybill and has no answer yet.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa

from connectors.sdk.tracking import FINISHED
from sandbox.world import Shipment, ShopSpec, World, WorldSpec
from warehouse import Warehouse

from .contract import WorldSandboxEnv

# A USD and a EUR shop (EasyPost's labels: USPS, UPS, FedEx, DHL Express) and a CNY store recording its
# couriers' waybills (SF, ZTO, YTO, Yunda): every carrier the World ships with
SHOPS = (ShopSpec("shop_us", "USD", "America/New_York"), ShopSpec("shop_eu", "EUR", "Europe/Berlin"),
         ShopSpec("shop_cn", "CNY", "Asia/Shanghai", checkout=("alipay", "wechatpay")))

# the columns of the marts the runner reads (channelhub/tracking.py)
TABLES = {"fct_shipments": "carrier varchar, tracking_code varchar, shipped_at timestamp with time zone, "
                           "status varchar, tracked_by varchar, tracked_at timestamp with time zone, order_id varchar",
          "fct_orders": "order_id varchar, customer_id varchar",
          "dim_customers": "customer_id varchar, phone varchar"}


def literal(value: str | datetime | None) -> str:
    """A value as SQL text both warehouses read: the env's rows go in as one literal statement per table,
    as bound parameters cost DuckDB's driver seconds for a few hundred rows."""
    if value is None:
        return "null"
    if isinstance(value, datetime):
        return f"cast('{value.astimezone(UTC).isoformat()}' as timestamp with time zone)"
    return "'" + value.replace("'", "''") + "'"


class TrackerEnv(WorldSandboxEnv):
    """A ContractEnv for a tracker account following ``carriers``. A subclass sets ``sandbox`` (on
    ``world``), ``account``, ``connector``, ``primary_stream``, ``fault_path`` and the config
    (:meth:`configure`, with :meth:`tracker_settings` among the settings), after calling
    :meth:`make_world`. Its parcels all shipped within the last ``world_days`` days up to the real
    clock, as the runner asks about parcels shipped within the account's ``track_days`` only."""

    primary_key = "tracking_code"
    carriers: ClassVar[tuple[str, ...]]
    world_days: ClassVar[int] = 20
    seed: ClassVar[int] = 7
    move_hours: ClassVar[int] = 12  # how long passes between a change's two runs
    known: list[Shipment]           # the parcels the hub knows: the waybills the tracker is asked about
    answers: dict[str, tuple[str, datetime]]  # waybill -> the status and time of the answer the hub built on

    def make_world(self, records: int) -> World:
        """A World shifted to the real clock, of which the hub knows the ``records`` oldest parcels of the
        account's carriers."""
        orders = records * 2
        while True:
            world = World(WorldSpec(seed=self.seed, orders=orders, shops=SHOPS, days=self.world_days))
            world.shift(datetime.now(UTC) - world.now)  # before the parcels are made, so they move with it
            followed = [shipment for shipment in world.shipments  # shipped by now: the hub knows no later one
                        if shipment.carrier in self.carriers and shipment.created_at <= world.now]
            if len(followed) >= records:
                break
            orders *= 2
        self.world, self.known, self.answers = world, followed[:records], {}
        return world

    def tracker_settings(self) -> dict[str, Any]:
        """The settings a contract's runs need: the carriers, and a quota none of them reaches."""
        return {"carriers": list(self.carriers), "daily_quota": 1_000_000}

    def seed_warehouse(self) -> None:
        """A fresh warehouse's hub: it knows every parcel (and its receiver's phone) and has no answer yet."""
        self.answers = {}
        self._write()

    def source_count(self) -> int:
        return len(self.known)

    def change(self, fraction: float) -> int:
        """The hub builds its marts on the tracker's last answers (the parcels as they stand now), then
        ``move_hours`` pass and ``fraction`` of the known count ship anew; returns how many parcels are
        unfinished for the hub, which the next run asks about."""
        at = datetime.now(UTC)
        self.answers = {shipment.tracking_code: (shipment.status(self.world.now), at) for shipment in self.known}
        self.world.tick(self.move_hours * 3600)
        self.ship(max(1, round(len(self.known) * fraction)))
        return sum(1 for shipment in self.known if self.answers.get(shipment.tracking_code, ("",))[0] not in FINISHED)

    def share_cursor_value(self, n: int) -> None:
        self.ship(n)

    def ship(self, n: int) -> list[Shipment]:
        """``n`` new parcels of the account's carriers, shipped now (the World's orders go to every shop:
        those of other carriers the hub does not hand this tracker), and known to the hub."""
        shipped: list[Shipment] = []
        while len(shipped) < n:
            made = self.world.ship(self.world.add_orders(max(8, 2 * (n - len(shipped)))))
            shipped += [shipment for shipment in made if shipment.carrier in self.carriers]
        self.known += shipped[:n]
        self._write()
        return shipped[:n]

    def _write(self) -> None:
        """The hub's marts as they stand: every known parcel, its status and who answered when (the
        tracker's last answer the build took in, else unknown), and its receiver's phone, written whole.
        The dicts' keys are in the tables' column order."""
        shipments = [{"carrier": shipment.carrier, "tracking_code": shipment.tracking_code,
                      "shipped_at": shipment.created_at,
                      "status": self.answers[shipment.tracking_code][0] if shipment.tracking_code in self.answers
                      else "unknown",
                      "tracked_by": self.connector if shipment.tracking_code in self.answers else None,
                      "tracked_at": self.answers.get(shipment.tracking_code, (None, None))[1],
                      "order_id": shipment.reference}
                     for shipment in self.known]
        orders = [{"order_id": order, "customer_id": str(customer)}
                  for order, customer in {shipment.reference: shipment.order.customer.id for shipment in self.known}.items()]
        people = [{"customer_id": str(customer), "phone": "".join(phone.split())}  # E.164, as dim_customers
                  for customer, phone in {shipment.order.customer.id: shipment.order.customer.phone
                                          for shipment in self.known}.items()]
        with Warehouse(self.config.warehouse_url).engine.begin() as conn:  # the warehouse the runs load now
            conn.execute(sa.text("create schema if not exists marts"))
            for table, rows in (("fct_shipments", shipments), ("fct_orders", orders), ("dim_customers", people)):
                conn.execute(sa.text(f"drop table if exists marts.{table}"))
                conn.execute(sa.text(f"create table marts.{table} ({TABLES[table]})"))
                values = ", ".join("(" + ", ".join(literal(value) for value in row.values()) + ")" for row in rows)
                conn.execute(sa.text(f"insert into marts.{table} values {values}"))
