"""The contract every connector passes, on one load per test class.

:class:`ConnectorContract` (DuckDB): the first load pages through many pages; what lands matches the
connector's declarations (tables, keys, disposition, cursor and declared types); a second run fetches
only changes; records sharing one cursor value across page boundaries (``shared_records``), fetched through injected
rate limits and server errors, are neither lost nor duplicated, a re-run changes nothing and a clean
load gives the same table; a malformed page fails with an error naming the account and stream (a malformed
file is quarantined), loses nothing already loaded, and a re-run recovers; the connector's dbt models build
on the load and feed the marts.

:class:`PostgresParity`: the same load on PostgreSQL lands the same declarations and the same rows, and
its incremental run fetches only changes; its models build there too (in ``make test-e2e``, where most
connectors' PostgreSQL classes run: see the class).

The class loads its source once. Every test starts where the source and the warehouse agree and leaves
them agreeing when it passes; after a failure the contract disarms the faults and catches up, so tests
do not depend on each other's order and a failing one does not break the next.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
import sqlalchemy as sa

import transforms
from channelhub.config import HubConfig
from channelhub.runner import RunFailed, RunReport, pipeline_for, run_account
from connectors.sdk.spec import LANDS_AS
from warehouse import Warehouse

from .plugin import FAILED
from .postgres import fresh_postgres_database

if TYPE_CHECKING:
    from sandbox.kit import HttpSandbox
    from sandbox.world import World

FAULTS = ("rate_limit", "server_error", "malformed")


class ContractEnv(ABC):
    """A sandboxed source plus a config with one account (``account``) pointing at it.

    Constructed as ``Env(tmp_path, records, page_size)``: the sandbox holds ``records`` primary-stream
    records and serves pages of ``page_size``. ``environment`` holds the variables the config's secrets
    read; the contract sets them for the class.
    """

    config: HubConfig
    account: str
    primary_stream: str     # table in raw_<account> the contract counts
    primary_key: str        # its key column in the warehouse
    environment: ClassVar[dict[str, str]] = {}
    # the marts the connector's own checks read (dbt selectors, e.g. checks.ORDER_MARTS): built with its
    # models in the contract's one build, as each dbt invocation costs seconds
    marts: ClassVar[str] = ""
    variables: dict[str, str]  # every variable the contract set for the class (home, warehouse, secrets)

    @abstractmethod
    def __init__(self, tmp_path: Path, records: int, page_size: int) -> None: ...

    @abstractmethod
    def source_count(self) -> int:
        """How many primary-stream records the source holds now."""

    @abstractmethod
    def fetched(self) -> int:
        """How many primary-stream records the source has handed out so far (all runs)."""

    @abstractmethod
    def change(self, fraction: float) -> int:
        """Modify ``fraction`` of the primary records so their cursor moves; returns how many."""

    @abstractmethod
    def share_cursor_value(self, n: int) -> None:
        """Give ``n`` primary records one identical, new cursor value."""

    @abstractmethod
    def inject(self, kind: str, times: int) -> None:
        """Arm a fault for exactly the next ``times`` requests/reads (0 disarms it): ``rate_limit``,
        ``server_error`` (each the source's transient failure) or ``malformed`` (unreadable data)."""

    def seed_warehouse(self) -> None:
        """Write what a fresh warehouse's hub already holds that the account's runs read (a tracker's
        waybills: :class:`channelhub.testing.TrackerEnv`); the contract calls it for each warehouse it
        loads. Nothing by default."""

    def close(self) -> None:
        """Stop sandboxes."""

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of a query on the env's warehouse: what a pilot's own tests assert on."""
        with _connect(self) as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql))]

    def one(self, sql: str) -> tuple[Any, ...]:
        """The one row of a query (an aggregate, a record by key)."""
        (row,) = self.rows(sql)
        return row


class WorldSandboxEnv(ContractEnv):
    """A ContractEnv over one HTTP sandbox rendering the World: changes and shared cursor values are
    made in the World's orders, ``fetched`` is the sandbox's count of primary records served, and faults
    break the requests whose path contains ``fault_path``. Subclasses set ``world``, ``sandbox``,
    ``fault_path`` and ``config`` (:meth:`configure`)."""

    world: World
    sandbox: HttpSandbox
    fault_path: str
    connector: str  # the account's connector

    def configure(self, tmp_path: Path, settings: dict[str, Any], secrets: dict[str, str]) -> None:
        """``config``: one account of ``connector`` on this env's sandbox, loading into a DuckDB file under
        ``tmp_path``, with short retry waits; ``secrets`` maps each secret to the variable holding it."""
        self.config = HubConfig.model_validate({
            "warehouse": {"url": f"duckdb:///{tmp_path}/wh.duckdb"},
            "accounts": {self.account: {
                "connector": self.connector, "settings": {"max_wait_seconds": 0.1, **settings},
                "secrets": {name: {"env": variable} for name, variable in secrets.items()}}},
        })

    def source_count(self) -> int:
        """The orders of the account's shop (a channel); an ERP holding every order says so."""
        return len(self.world.orders_of(self.account))

    def fetched(self) -> int:
        return self.sandbox.stats.records_served[self.primary_stream]

    def change(self, fraction: float) -> int:
        return len(self.world.touch_orders(fraction))

    def share_cursor_value(self, n: int) -> None:
        self.world.share_timestamp(n)

    def inject(self, kind: str, times: int) -> None:
        self.sandbox.faults.path_contains = self.fault_path
        setattr(self.sandbox.faults, kind, times)

    def close(self) -> None:
        self.sandbox.stop()


def _connect(env: ContractEnv) -> sa.Connection:
    return Warehouse(env.config.warehouse_url).engine.connect()


def count_rows(env: ContractEnv, column: str | None = None) -> int:
    expr = f"count(distinct {column})" if column else "count(*)"
    with _connect(env) as conn:
        return conn.execute(sa.text(f"select {expr} from raw_{env.account}.{env.primary_stream}")).scalar_one()


def columns_of(env: ContractEnv, table: str) -> dict[str, tuple[str, bool]]:
    """Column -> (warehouse data type, nullable) of ``raw_<account>.<table>``, in table order.
    information_schema, not sa.inspect: duckdb_engine's inspector queries pg_catalog.pg_collation, which
    DuckDB 1.4 does not have."""
    with _connect(env) as conn:
        rows = conn.execute(sa.text(
            "select column_name, data_type, is_nullable from information_schema.columns "
            "where table_schema = :schema and table_name = :table order by ordinal_position"),
            {"schema": f"raw_{env.account}", "table": table})
        return {name: (kind.upper(), nullable == "YES") for name, kind, nullable in rows}


def snapshot(env: ContractEnv) -> list[tuple]:
    """The primary table without dlt's load bookkeeping columns, rows ordered by key and columns by name
    (a column a later load added comes last in its table): two equal snapshots mean two equal
    warehouses for this stream."""
    columns = sorted(name for name in columns_of(env, env.primary_stream) if not name.startswith("_dlt"))
    with _connect(env) as conn:
        rows = conn.execute(sa.text(f"select {', '.join(columns)} from raw_{env.account}.{env.primary_stream} "
                                    f"order by {env.primary_key}"))
        return [tuple(row) for row in rows]


# dlt data types -> what each warehouse reports in information_schema
WAREHOUSE_TYPES = {
    "text": ("VARCHAR", "TEXT", "CHARACTER VARYING"),
    "timestamp": ("TIMESTAMP WITH TIME ZONE",),
    "date": ("DATE",),
    "bigint": ("BIGINT",),
    "bool": ("BOOLEAN",),
    "double": ("DOUBLE", "DOUBLE PRECISION"),
    "decimal": ("DECIMAL", "NUMERIC"),
    "json": ("JSON", "JSONB"),
}


class _Contract(ABC):
    env_class: ClassVar[type[ContractEnv]]
    records: ClassVar[int] = 300  # three pages of 100; the shared-cursor test pages through 250 more
    # That test's batch: two and a half pages, so one cursor value straddles page boundaries. The first
    # connectors of each kind (Shopify, Stripe, the U8 database, the store files) run it with 1,000.
    shared_records: ClassVar[int] = 250
    page_size: ClassVar[int] = 100
    env_options: ClassVar[dict[str, Any]] = {}  # more keyword arguments of env_class
    on_postgres: ClassVar[bool] = False

    @pytest.fixture(scope="class")
    def loaded(self, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ContractEnv, RunReport]]:
        """The class's one env and its first load, with the class's variables set (see :meth:`env`)."""
        tmp_path = tmp_path_factory.mktemp(type(self).__name__)
        with pytest.MonkeyPatch.context() as patch, ExitStack() as stack:
            variables = {"CHANNELHUB_HOME": str(tmp_path / "home"), **self.env_class.environment}
            if self.on_postgres:
                variables["CHANNELHUB_WAREHOUSE_URL"] = stack.enter_context(fresh_postgres_database())
            for variable, value in variables.items():
                patch.setenv(variable, value)
            env = self.env_class(tmp_path, self.records, self.page_size, **self.env_options)
            env.variables = variables
            stack.callback(env.close)
            env.seed_warehouse()
            yield env, run_account(env.config, env.account)

    @pytest.fixture
    def env(self, loaded: tuple[ContractEnv, RunReport], request: pytest.FixtureRequest,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[ContractEnv]:
        """The class's env, with source and warehouse agreeing. A passing test leaves them agreeing; after
        a failed one, what it armed is disarmed and what it changed is caught up. The class's variables
        are set again, over whatever a module's own autouse fixtures set for its other tests."""
        env = loaded[0]
        for variable, value in env.variables.items():
            monkeypatch.setenv(variable, value)
        yield env
        if request.node.stash.get(FAILED, False):
            for kind in FAULTS:
                env.inject(kind, 0)
            run_account(env.config, env.account)

    def test_first_load_pages_through_every_record(self, loaded: tuple[ContractEnv, RunReport]) -> None:
        env, first = loaded
        assert first.rows[env.primary_stream] == self.records  # every page of the seeded source
        assert count_rows(env) == count_rows(env, env.primary_key) == env.source_count()

    def test_what_lands_matches_the_declarations(self, env: ContractEnv) -> None:
        """Every stream the account loads is a table in raw_<account> with its declared key (NOT NULL in
        the warehouse), write disposition, cursor column and declared column types; nothing else lands
        there but the streams' nested tables and dlt's own."""
        account = env.config.account(env.account)
        streams = account.connector.streams_for(account)
        schema = pipeline_for(account, Warehouse(env.config.warehouse_url)).default_schema
        tables = schema.data_tables()
        landed = {table["name"]: table for table in tables}
        normalize = schema.naming.normalize_path  # keeps the __ of flattened fields
        for stream in streams:
            name = normalize(stream.name)
            assert name in landed, f"stream {stream.name!r} did not land (tables: {sorted(landed)})"
            columns = columns_of(env, name)
            assert landed[name].get("write_disposition") == stream.write_disposition, stream.name
            keys = {normalize(key) for key in stream.primary_key}
            declared_keys = {column for column, hints in landed[name]["columns"].items() if hints.get("primary_key")}
            assert declared_keys == keys, (stream.name, declared_keys, keys)
            assert all(column in columns and not columns[column][1] for column in keys), (stream.name, columns)
            expected = dict(stream.column_types)
            if stream.cursor is not None:
                assert normalize(stream.cursor.field) in columns, (stream.name, stream.cursor.field)
            for column, kind in expected.items():
                found = columns.get(normalize(column), ("missing", True))[0]
                assert found.startswith(WAREHOUSE_TYPES[LANDS_AS.get(kind, kind)]), (stream.name, column, kind, found)
        roots = {normalize(stream.name) for stream in streams}
        strays = [name for name in landed if name.split("__")[0] not in roots]
        assert not strays, f"tables no declared stream accounts for: {strays}"

    def test_its_models_build_and_feed_the_marts(self, env: ContractEnv) -> None:
        """The connector's dbt models build on this load, and each conformed model
        (``int_<connector>__<role>``, which the marts union by role: transforms/macros/conformed.sql)
        gives this account's rows; then the connector's own checks of the env's ``marts``
        (:meth:`check_marts`) on the same build."""
        name = env.config.account(env.account).connector.name
        # one selector: a connector may ship no int_ model
        report = transforms.build(env.config, select=[f"stg_{name}__* int_{name}__* {env.marts}".strip()])
        models = {run.model for run in report.runs}
        assert any(model.startswith(f"stg_{name}__") for model in models), f"{name} ships no staging model"
        with _connect(env) as conn:
            for model in sorted(m for m in models if m.startswith(f"int_{name}__")):
                rows = conn.execute(sa.text(f"select count(*) from intermediate.{model} where channel_id = :account"),
                                    {"account": env.account}).scalar_one()
                assert rows, f"{model} gives the marts no row of {env.account}"
        self.check_marts(env)

    def check_marts(self, env: ContractEnv) -> None:
        """A connector's checks on the marts its env's ``marts`` selects, built on the class's first load
        (``channelhub.testing.checks`` has the ones channels and ERPs share). None by default."""

    def test_second_incremental_run_fetches_only_changes(self, env: ContractEnv) -> None:
        before = env.fetched()
        changed = env.change(0.02)
        assert changed > 0
        report = run_account(env.config, env.account)
        fetched = env.fetched() - before
        assert changed <= fetched <= changed + self.page_size, (changed, fetched)
        assert report.rows[env.primary_stream] == fetched
        assert count_rows(env) == env.source_count()


class ConnectorContract(_Contract):
    """The whole contract, on the embedded DuckDB warehouse. Its failure scenarios (``reliability``:
    shared cursor values through faults, malformed data) run in ``make test`` for the classes that set
    ``scenarios_in_quick_suite``, one per load path (REST pages as Arrow tables, a REST API on
    rest_api, a signed gateway, a SQL source, dropped files, a tracker); every other class runs them
    with the end-to-end checks (``make test-e2e``, ``make reliability``), which CI runs too: they go
    through the same runner, and ``make test`` stays within its five minutes."""

    scenarios_in_quick_suite: ClassVar[bool] = False

    @pytest.mark.reliability
    def test_shared_cursor_values_and_transient_failures_end_as_a_clean_load(self, env: ContractEnv) -> None:
        """Rate limits and server errors over a shared cursor value: a clean load, per connector.

        ``shared_records`` records given one cursor value straddle page boundaries, and the run fetching them meets
        rate limits and server errors: nothing is lost or duplicated, a re-run (which reads the boundary
        value again) changes nothing, and a clean load gives the very same table. One scenario, so the
        class pays for one clean load."""
        env.share_cursor_value(self.shared_records)
        env.inject("rate_limit", 3)
        env.inject("server_error", 3)
        run_account(env.config, env.account)
        assert count_rows(env) == count_rows(env, env.primary_key) == env.source_count()
        fetched = snapshot(env)
        run_account(env.config, env.account)
        assert snapshot(env) == fetched
        run_account(env.config, env.account, full_refresh=True)
        assert snapshot(env) == fetched

    @pytest.mark.reliability
    def test_malformed_data_fails_clearly_or_is_quarantined_and_loses_nothing(self, env: ContractEnv) -> None:
        """Unreadable data fails clearly or is quarantined; nothing is lost, per connector.

        An unreadable page fails the run naming account and stream, and the re-run recovers; an unreadable
        file is quarantined (``ops.quarantine``) while the rest loads, and loads once the source sends it
        again. Either way nothing already loaded is lost."""
        loaded = snapshot(env)
        keys = f"select {env.primary_key} from raw_{env.account}.{env.primary_stream}"
        loaded_keys = set(env.rows(keys))
        env.change(0.05)
        env.inject("malformed", 1)
        try:
            report = run_account(env.config, env.account)
        except RunFailed as failure:
            message = str(failure)
            assert env.account in message and env.primary_stream in message, message
            assert snapshot(env) == loaded
            run_account(env.config, env.account)
        else:
            set_aside = env.rows(f"select location, reason from ops.quarantine where run_id = '{report.run_id}' "
                                 f"and account = '{env.account}' and stream = '{env.primary_stream}'")
            assert set_aside, "the unreadable data neither failed the run nor was quarantined"
            assert loaded_keys <= set(env.rows(keys))
            run_account(env.config, env.account, full_refresh=True)  # the source sends it again
        assert count_rows(env) == count_rows(env, env.primary_key) == env.source_count()


class PostgresParity(_Contract):
    """The load, its declarations and its incremental run on PostgreSQL, the production warehouse. A few
    pages are enough to compare: the paging itself is the DuckDB contract's.

    PostgreSQL parity is tested once per load path in ``make test``: the classes that set
    ``in_quick_suite`` (REST pages as Arrow tables, a SQL source, dropped files); every other class,
    and every class's model build on PostgreSQL, run with the end-to-end checks (``make test-e2e``),
    as per connector they would cost the suite's budget."""

    on_postgres = True
    records = 200
    in_quick_suite: ClassVar[bool] = False

    @pytest.mark.e2e
    def test_its_models_build_and_feed_the_marts(self, env: ContractEnv) -> None:
        """The connector's models and its marts build on PostgreSQL and feed the marts (end to end)."""
        super().test_its_models_build_and_feed_the_marts(env)

    def test_the_rows_are_the_ones_a_duckdb_load_gives(self, env: ContractEnv, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
        on_postgres = snapshot(env)
        duckdb_url = f"duckdb:///{tmp_path}/parity.duckdb"
        monkeypatch.setenv("CHANNELHUB_WAREHOUSE_URL", duckdb_url)
        monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
        env.seed_warehouse()
        run_account(env.config, env.account)
        assert _comparable(snapshot(env)) == _comparable(on_postgres)


def _comparable(rows: list[tuple]) -> list[tuple[Any, ...]]:
    """Rows as plain values in one order. What the two drivers differ in is not a difference of the data:
    JSON parsed or as text, ``0E-9`` or ``0.000000000``, the UTC zone object, and text keys sorted by
    each database's collation. One is a difference, and known: dlt's COPY into PostgreSQL forces NULL
    on every nullable column, so an empty string lands as NULL there (staging models read both alike)."""
    def plain(value: Any) -> Any:
        if value == "":
            return None
        if isinstance(value, Decimal):
            return value.normalize()
        if isinstance(value, datetime):
            return value.astimezone(UTC) if value.tzinfo else value
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)
            except ValueError:
                return value
        return json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict | list) else value
    return sorted((tuple(plain(value) for value in row) for row in rows), key=repr)
