"""Tables the models read that do not come from a source: the accounts and the stock policy from
``channelhub.yml``, and the merchant's SKU mapping.

``ops.channels``, ``ops.stock_policy``, ``ops.stock_warehouses`` and ``ops.stock_sources`` mirror the config; a build rewrites
them when it changed, so the models see the same accounts, time zones and allocation numbers the
rest of channelhub uses.
``ops.currencies`` holds ISO 4217's minor units, which money in minor units is converted by.
``ops.sku_mapping`` is the merchant's to edit (SQL, a BI tool, a spreadsheet import): it is created
empty once and never overwritten.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import sqlalchemy as sa
from iso4217 import Currency

from connectors.sdk import Connector
from warehouse import Hub, ensure_tables

from .phones import default_region

metadata = sa.MetaData(schema="ops")
channels = sa.Table(
    "channels", metadata,
    sa.Column("channel_id", sa.String(64), primary_key=True),  # the account name
    sa.Column("platform", sa.String(64), nullable=False),      # the connector
    sa.Column("kind", sa.String(16), nullable=False),          # channel | payments | logistics | erp | file
    sa.Column("is_stock_target", sa.Boolean, nullable=False),  # the connector can write stock back
    sa.Column("timezone", sa.String(64), nullable=False),      # zone of the source's local dates
    sa.Column("phone_region", sa.String(2)),                   # where phones without a country code are
    sa.Column("schedule", sa.String(64)),                      # when it loads (cron or @preset)
)
sku_mapping = sa.Table(
    "sku_mapping", metadata,
    sa.Column("channel_id", sa.String(64), nullable=False),   # the account whose code this is
    sa.Column("source_code", sa.String(128), nullable=False),  # the code as that source writes it
    sa.Column("product_id", sa.String(128), nullable=False),   # the merchant SKU it means
    sa.Column("note", sa.Text),
    sa.PrimaryKeyConstraint("channel_id", "source_code"),
)
stock_policy = sa.Table(
    "stock_policy", metadata,
    sa.Column("channel_id", sa.String(64), nullable=False),
    sa.Column("product_id", sa.String(128)),                   # NULL: the channel's default
    sa.Column("safety_stock", sa.Integer, nullable=False),
    sa.Column("percentage", sa.Numeric(5, 2), nullable=False),
    sa.Column("cap", sa.Integer),
    sa.Column("floor", sa.Integer, nullable=False),
    sa.Column("unmapped_locations", sa.String(8)),              # zero | leave (the channel's, on every row)
)
bundles = sa.Table(
    "bundles", metadata,
    sa.Column("bundle_id", sa.String(128), nullable=False),     # the bundle's (kit's) merchant SKU
    sa.Column("component_id", sa.String(128), nullable=False),  # a merchant SKU it is made of
    sa.Column("quantity", sa.Integer, nullable=False),          # units of the component per bundle
    sa.PrimaryKeyConstraint("bundle_id", "component_id"),
)
stock_locations = sa.Table(
    "stock_locations", metadata,
    sa.Column("channel_id", sa.String(64), nullable=False),
    sa.Column("location", sa.String(128), nullable=False),      # the channel's location name or id
    sa.Column("warehouse_id", sa.String(64), nullable=False),   # an ERP warehouse it sells from
)
currencies = sa.Table(
    "currencies", metadata,
    sa.Column("iso_code", sa.String(3), primary_key=True),        # ISO 4217 code, upper case
    sa.Column("exponent", sa.Integer, nullable=False),            # digits after the decimal point
    sa.Column("minor_unit", sa.Numeric(10, 4), nullable=False),   # 10^-exponent: one minor unit, exact
)
stock_warehouses = sa.Table(
    "stock_warehouses", metadata,
    sa.Column("warehouse_id", sa.String(64), primary_key=True),  # counted as on hand; empty table: all
)
stock_sources = sa.Table(
    "stock_sources", metadata,
    sa.Column("channel_id", sa.String(64), primary_key=True),  # an ERP account counted as on hand; empty: all
)


def channel_rows(hub: Hub) -> list[dict[str, object]]:
    rows = []
    for name in hub.enabled_accounts():
        account = hub.account(name, resolve_secrets=False)
        connector = account.connector
        zone = getattr(account.settings, "timezone", None) or "UTC"
        rows.append({"channel_id": name, "platform": connector.name, "kind": connector.kind.value,
                     "is_stock_target": type(connector).stock_writer is not Connector.stock_writer,
                     "timezone": zone, "phone_region": account.phone_region or default_region(zone),
                     "schedule": account.schedule})
    return rows


def currency_rows() -> list[dict[str, object]]:
    """ISO 4217's minor units, from the maintained ``iso4217`` package (the standard's own data): JPY has
    none, KWD three, most two. Codes without a minor unit (gold, SDR) are left out."""
    return [{"iso_code": currency.code, "exponent": currency.exponent,
             "minor_unit": Decimal(1).scaleb(-currency.exponent)}
            for currency in Currency if currency.exponent is not None]


def write_seeds(conn: sa.Connection, hub: Hub) -> None:
    ensure_tables(conn, channels, sku_mapping, stock_policy, stock_warehouses, stock_sources, stock_locations, bundles,
                  currencies)
    for table, rows in ((channels, channel_rows(hub)), (stock_policy, hub.stock_policy_rows()),
                        (stock_locations, hub.stock_location_rows()), (bundles, hub.bundle_rows()),
                        (stock_warehouses, [{"warehouse_id": code} for code in hub.counted_warehouses()]),
                        (stock_sources, [{"channel_id": name} for name in hub.counted_stock_sources()]),
                        (currencies, currency_rows())):
        if _as_written(conn, table) == _as_rows(table, rows):
            continue  # unchanged: a write would cost DuckDB a checkpoint when the connection closes
        conn.execute(table.delete())
        if rows:
            conn.execute(table.insert(), rows)


def _as_rows(table: sa.Table, rows: list[dict[str, object]]) -> Counter[tuple[object, ...]]:
    return Counter(tuple(row.get(column.name) for column in table.columns) for row in rows)


def _as_written(conn: sa.Connection, table: sa.Table) -> Counter[tuple[object, ...]]:
    """The table's rows, comparable with :func:`_as_rows` (numbers compare by value: 10 == 10.00)."""
    return Counter(tuple(row) for row in conn.execute(sa.select(*table.columns)))
