"""What a connector declares: its kind, settings, streams, cursors, health check and stock writer.

The runner, the CLI, the Airflow DAGs and the contract tests only ever talk to this interface, so a
connector shipped in a separate package (registered under the ``channelhub.connectors`` entry-point
group) behaves exactly like the built-in ones.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol

from .account import Account, S
from .errors import ConfigError

if TYPE_CHECKING:
    import dlt
    from dlt.extract.hints import TResourceHints
    from dlt.extract.source import DltSource


class ConnectorKind(StrEnum):
    CHANNEL = "channel"
    PAYMENTS = "payments"
    LOGISTICS = "logistics"
    ERP = "erp"
    FILE = "file"
    OTHER = "other"


WriteDisposition = Literal["merge", "replace", "append"]


@dataclass(frozen=True)
class Cursor:
    """The incremental semantics of one stream, declared once and applied by dlt.

    field: record field the cursor reads (after the connector's own conversions).
    source_timezone: the zone the *source* writes this field in. Connectors convert to UTC before
        the value reaches dlt; the declaration documents what that conversion assumes.
    lag: how far behind the last seen value the next run starts re-reading, in the cursor's units
        (seconds for timestamps, versions for a version counter). Covers rows that become visible later
        than rows with a newer cursor (a slow commit, an eventually consistent list); every connector's
        README justifies its lags. Rows later still are caught by the periodic reconciliation.
    dedup_on_boundary: records whose cursor equals the last value are read again (closed range)
        and dropped by primary key, so 1,000 rows sharing one timestamp across a page boundary are
        neither lost nor loaded twice.
    row_order: "desc" for a source that lists newest first (Stripe): dlt stops reading at the first
        record older than the start instead of filtering the rest.
    versions: the cursor is a version counter (SQL Server's rowversion), not a time: a reconciliation
        re-reads the whole table rather than a lookback in seconds.
    """

    field: str
    source_timezone: str = "UTC"
    lag: float = 0
    dedup_on_boundary: bool = True
    row_order: Literal["asc", "desc"] | None = None
    versions: bool = False

    def incremental_args(self, initial_value: Any, end_value: Any = None) -> dict[str, Any]:
        """dlt's incremental arguments for this declaration: the one place they are derived, for
        ``dlt.sources.incremental`` and for ``rest_api``'s incremental config alike. In a reconciliation
        run (:func:`reconciling`) a time cursor re-reads the whole lookback, a version counter everything."""
        lag = self.lag
        if (lookback := _lookback.get()) is not None:
            lag = WHOLE_TABLE if self.versions else max(lag, lookback)
        args: dict[str, Any] = {"cursor_path": self.field, "initial_value": initial_value, "end_value": end_value,
                                "lag": lag or None, "range_start": "closed", "row_order": self.row_order}
        if not self.dedup_on_boundary:
            args["primary_key"] = ()  # no key: no boundary dedup
        return args

    def incremental(self, initial_value: Any, end_value: Any = None) -> dlt.sources.incremental:
        import dlt  # here, not at the top: declarations are read by commands that never run dlt

        return dlt.sources.incremental(**self.incremental_args(initial_value, end_value))


WHOLE_TABLE = 2**62  # a lag no version counter reaches: re-read from the start (dlt keeps within the initial value)
_lookback: ContextVar[float | None] = ContextVar("reconcile_lookback", default=None)


@contextmanager
def reconciling(lookback_seconds: float) -> Iterator[None]:
    """While the block builds a source, its cursors re-read ``lookback_seconds`` (version counters: all),
    so rows that became visible later than the lag allows are picked up by the reconciliation run."""
    token = _lookback.set(lookback_seconds)
    try:
        yield
    finally:
        _lookback.reset(token)


# Declared kinds that are not dlt data types, with the dlt type they land as: ``text_list``, a list of
# strings (Shopify's payment_gateway_names) landed as one comma-separated text, which every warehouse
# filters alike (the Arrow path joins it, connectors.sdk.columnar).
LANDS_AS = {"text_list": "text"}


def typed(*groups: tuple[tuple[str, ...], str]) -> tuple[tuple[str, str], ...]:
    """``Stream.column_types`` from groups of columns sharing a type:
    ``typed((("created", "modified"), "timestamp"), (MONEY, "decimal"))``."""
    return tuple((column, kind) for columns, kind in groups for column in columns)


@dataclass(frozen=True)
class Stream:
    """One table a connector produces in ``raw_<account>``."""

    name: str
    primary_key: tuple[str, ...]
    write_disposition: WriteDisposition = "merge"
    cursor: Cursor | None = None
    description: str = ""
    # dlt data types of fields, declared so the column exists from the first load (fields often null:
    # Shopify's locations.city) or lands typed (money sent as strings: decimal; zone-less times in the
    # site's zone: text, never read as UTC).
    column_types: tuple[tuple[str, str], ...] = ()
    # fields besides the key a record cannot load without (an order's currency and total): a record
    # lacking one is quarantined (connectors.sdk.quarantine), never loaded with a NULL there.
    required: tuple[str, ...] = ()
    # loaded as they come, but critical quality rules at the raw layer (blocking stock write-back): a
    # business key besides the primary key (a stock row's warehouse, item and batch), and columns that
    # must not be NULL (quantities: a NULL would be read as no stock)
    unique: tuple[str, ...] = ()
    not_null: tuple[str, ...] = ()

    def resource_hints(self, *, columns: bool = True) -> dict[str, Any]:
        """The dlt resource hints this declaration makes (name, key, disposition, column types): the
        one place they are derived, for ``@dlt.resource`` and ``rest_api`` resources alike. Without
        ``columns`` for a resource that feeds several tables, each taking its :meth:`table_hints`."""
        hints: dict[str, Any] = {"name": self.name, "primary_key": list(self.primary_key),
                                 "write_disposition": self.write_disposition}
        if columns and self.column_types:
            hints["columns"] = {column: {"data_type": LANDS_AS.get(kind, kind), "nullable": column not in self.primary_key}
                                for column, kind in self.column_types}
        return hints

    def table_hints(self) -> TResourceHints:
        """dlt's hints for this stream's table, for one resource that feeds several tables: its items
        for this stream go ``dlt.mark.with_hints(items, stream.table_hints(), create_table_variant=True)``,
        so each table takes its own declaration (column hints set on the resource would reach the others)."""
        import dlt  # here, not at the top: declarations are read by commands that never run dlt

        declared = self.resource_hints()
        return dlt.mark.make_hints(table_name=declared.pop("name"), **declared)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StockLevel:
    """One quantity to set on a channel, addressed in the channel's own ids.

    ``expected`` is the quantity we believe the channel holds now (last successful push or last
    load). Writers compare-and-set against it, so a push that crosses a sale made on the channel, or
    a retry of a push that already landed, is refused instead of silently overwriting."""

    sku: str
    location_id: str
    item_id: str
    available: int
    expected: int | None = None


@dataclass(frozen=True)
class StockPushResult:
    """What became of one level. ``stale``: the channel no longer held ``expected`` (its quantity,
    when the writer could read it, is ``actual``); nothing was written for that level."""

    level: StockLevel
    ok: bool
    detail: str = ""
    stale: bool = False
    actual: int | None = None


@dataclass(frozen=True)
class LoadedLevels:
    """Where an ingest run leaves the channel's own quantities: ``raw_<account>.<stream>`` with these
    columns. The stock sync reads it to know what the channel held when it was last loaded."""

    stream: str
    location_column: str
    item_column: str
    quantity_column: str


# The figures a stock mirror receives per SKU and channel (:meth:`Connector.mirror_writer`): what the
# channel is allocated over its locations, the on-hand stock of the warehouses it sells from, and the
# available-to-promise behind the allocation (on hand - reserved - safety stock).
MIRROR_FIGURES = ("allocated", "on_hand", "available")


class StockWriter(Protocol):
    """Sets available quantities on a sales channel. Implemented in ``connectors/<name>/stock.py``.

    ``reference`` identifies the sync on the channel side when the platform keeps one (an audit URI)."""

    loaded_levels: ClassVar[LoadedLevels | None]

    def push(self, levels: list[StockLevel], reference: str = "") -> list[StockPushResult]: ...


class Connector(ABC, Generic[S]):
    """Base of a connector, generic over its settings model ``S``: subclasses fill the class variables
    and the abstract methods, and receive ``Account[S]``, so ``account.settings`` is already their own
    settings type."""

    name: ClassVar[str]
    kind: ClassVar[ConnectorKind]
    settings_model: type[S]
    streams: ClassVar[tuple[Stream, ...]]

    @abstractmethod
    def source(self, account: Account[S]) -> DltSource:
        """The dlt source for one account, one resource per stream of :meth:`streams_for`."""

    @abstractmethod
    def check(self, account: Account[S]) -> CheckResult:
        """Test credentials and reachability with the cheapest call the source offers."""

    def source_keys(self, account: Account[S], stream: Stream) -> Iterable[tuple[Any, ...]] | None:
        """Every primary key the source holds now for ``stream``, read cheaply (ids only), for the periodic
        reconciliation that finds rows deleted at the source; None when the source offers no such
        listing for the stream (then deletions arrive only the way the connector reads them)."""
        return None

    def stock_writer(self, account: Account[S]) -> StockWriter | None:
        """Channels return a writer; other kinds have none."""
        return None

    def mirror_writer(self, account: Account[S]) -> StockWriter | None:
        """A system that shows channelhub's allocations without selling them (an ERP's form) returns a
        writer of mirror levels: ``StockLevel(sku, location_id=<channel account>, item_id=<one of
        MIRROR_FIGURES>, available=<the figure>)``; None when this account is not set up for it."""
        return None

    def offered_streams(self, account: Account[S]) -> tuple[Stream, ...]:
        """Every stream this connector can load for this account. The declared ``streams`` unless the
        account's settings define its tables (a spreadsheet's file patterns)."""
        return self.streams

    def streams_for(self, account: Account[S]) -> tuple[Stream, ...]:
        """The streams this account loads: what it is offered, narrowed to its ``streams:`` choice.
        The runner, the run log, the quality suites and the docs all follow this, so a table the
        account never loads is never expected."""
        offered = self.offered_streams(account)
        if account.selected is None:
            return offered
        names = {stream.name for stream in offered}
        unknown = sorted(set(account.selected) - names)
        if unknown:
            raise ConfigError(f"account {account.name!r}, field 'streams': unknown streams {unknown} "
                              f"(connector {self.name!r} offers {sorted(names)})")
        return tuple(stream for stream in offered if stream.name in account.selected)

    def stream(self, name: str) -> Stream:
        for stream in self.streams:
            if stream.name == name:
                return stream
        raise KeyError(f"connector {self.name!r} has no stream {name!r}")

    def resource_hints(self, name: str) -> dict[str, Any]:
        """Keyword arguments for ``@dlt.resource`` taken from the stream declaration."""
        return self.stream(name).resource_hints()
