"""The ShipStation connector against the ShipStation sandbox: the shared contract, then what is
ShipStation's own (a public V1 client on the sandbox, the rate limit's headers honoured, Pacific times,
errors, bad records) and its labels and shipped lines in the marts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from connectors.shipstation.connector import pacific_bound, to_record
from connectors.sdk import SourceDataError
from sandbox.shipstation import ShipstationSandbox
from sandbox.world import Shipment, ShopSpec, World, WorldSpec

ACCOUNT = "shipstation_test"
API_KEY, API_SECRET = "ss_contract_key_0001", "ss_contract_secret_0001"
SECRETS = {"api_key": "CHANNELHUB_TEST_SHIPSTATION_KEY", "api_secret": "CHANNELHUB_TEST_SHIPSTATION_SECRET"}
# one shop whose parcels ShipStation ships (USD: USPS, UPS and FedEx labels)
SHOPS = (ShopSpec("shop_us", "USD", "America/New_York", shipper="shipstation"),)
HUB_CARRIERS = {"stamps_com": "USPS", "ups": "UPS", "fedex": "FedEx", "dhl_express": "DHLExpress"}


def world_with_labels(n: int, seed: int = 7) -> World:
    """A World whose ShipStation account lists exactly ``n`` labels (voided ones included), all created
    well before the World's clock."""
    world = World(WorldSpec(seed=seed, orders=n * 3 // 2 + 60, shops=SHOPS))
    sandbox = ShipstationSandbox(world, rate_limit=None)
    while len(sandbox.labels()) > n:
        del world.shipments[-1]
    assert len(sandbox.labels()) == n, "no trim of the World's parcels lists exactly n labels"
    return world


class ShipstationEnv(WorldSandboxEnv):
    primary_stream = "shipments"
    primary_key = "shipment_id"
    fault_path = "/shipments"
    connector = "shipstation"
    marts = "+fct_shipments +int_shipstation__shipment_lines"
    environment: ClassVar[dict[str, str]] = {SECRETS["api_key"]: API_KEY, SECRETS["api_secret"]: API_SECRET}

    def __init__(self, tmp_path: Path, records: int, page_size: int, *, streams: tuple[str, ...] | None = ("shipments",),
                 rate_limit: int | None = None, window: float = 60.0, **settings: Any) -> None:
        """The contract reads the labels alone (``streams``): the orders stream would double every load's
        cost and the contract is about the paging and cursor, which both streams share."""
        self.world = world_with_labels(records)
        self.sandbox = ShipstationSandbox(self.world, API_KEY, API_SECRET, rate_limit=rate_limit, window=window)
        self.account = ACCOUNT
        self.configure(tmp_path, {"base_url": self.sandbox.serve(), "page_size": page_size, "timeout_seconds": 10,
                                  **settings}, SECRETS)
        if streams is not None:
            raw = self.config.model_dump(mode="json", exclude_unset=True)
            raw["accounts"][ACCOUNT]["streams"] = list(streams)
            self.config = type(self.config).model_validate(raw)

    def source_count(self) -> int:
        return len(self.sandbox.labels())

    def change(self, fraction: float) -> int:
        return len(self.world.ship(self.world.add_orders(max(1, round(self.source_count() * fraction)))))

    def share_cursor_value(self, n: int) -> None:
        self.world.ship(self.world.add_orders(n))


class ShipstationMarts:
    """Checks on the marts of the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: ShipstationEnv) -> None:
        """Every label is one row of fct_shipments with its order, the hub's carrier code, its waybill and
        cost; a live label is pre_transit, a voided one cancelled; nobody tracks them yet. Every item of a
        live label is a shipped line of its order."""
        rows = {row[0]: row[1:] for row in env.rows(
            "select shipment_id, order_id, is_order_known, carrier, tracking_code, status, cost_amount, currency, "
            f"shipped_at, event_count from marts.fct_shipments where channel_id = '{env.account}'")}
        expected = {}
        for label in env.sandbox.labels():
            shipment = label.shipment
            expected[f"{env.account}:{label.number}"] = (
                shipment.reference, False, shipment.carrier, label.tracking_code,
                "cancelled" if label.voided_at else "pre_transit", shipment.cost, "USD", label.created_at, 0)
        assert rows == expected
        assert {row[2] for row in rows.values()} == {"USPS", "UPS", "FedEx"}
        assert sum(row[4] == "cancelled" for row in rows.values()) > 0
        lines = env.rows("select order_id, source_sku, quantity, shipped_at from intermediate.int_shipstation__shipment_lines "
                         f"where channel_id = '{env.account}'")
        live = [label.shipment for label in env.sandbox.labels() if label.voided_at is None]
        assert sorted(lines) == sorted((shipment.reference, line.sku.code, line.quantity, shipment.created_at)
                                       for shipment in live for line in shipment.order.lines)


class TestShipstationContract(ShipstationMarts, ConnectorContract):
    env_class = ShipstationEnv


class TestShipstationOnPostgres(ShipstationMarts, PostgresParity):
    env_class = ShipstationEnv
