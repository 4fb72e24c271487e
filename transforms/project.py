"""The SQL models under ``transforms/`` and the order they build in.

A model is one ``.sql`` file in ``staging/``, ``intermediate/`` or ``marts/``. Models name each other
by bare table name (``from stg_shopify__orders``), the way dbt's ``ref()`` does but without a template
language: the dependency graph is read from the SQL itself with sqlglot, so nobody keeps a list by
hand, and a reference to a model that does not exist fails before anything runs. Tables outside the
project are always schema-qualified (``sources.shopify__orders``, ``ops.sku_mapping``).

Optional settings sit in leading comment lines, ``-- key: value``:

    -- materialized: incremental     (view | table | incremental; default by layer)
    -- unique_key: order_id          (incremental: the row key)
    -- watermark: _loaded_at         (incremental: a column that grows whenever a row changes)
    -- lookback: 3600                (incremental: re-read this far below the newest watermark)
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Literal

import sqlglot
from sqlglot import exp

from connectors.sdk import ConfigError

from .macros import expand

ROOT = Path(__file__).parent
SOURCES_FILE = ROOT / "sources.yml"
LAYERS = ("staging", "intermediate", "marts")
Layer = Literal["staging", "intermediate", "marts"]
Materialized = Literal["view", "table", "incremental"]
SCHEMA = {"staging": "staging", "intermediate": "intermediate", "marts": "analytics"}
DEFAULT_MATERIALIZED: dict[str, Materialized] = {"staging": "view", "intermediate": "view", "marts": "table"}
EXTERNAL_SCHEMAS = {"sources", "ops"}
SETTING = re.compile(r"^--\s*(materialized|unique_key|watermark|lookback)\s*:\s*(\S+)\s*$")
SOURCE_DIALECT = "duckdb"  # the dialect models are written in; PostgreSQL gets a sqlglot transpile


@dataclass(frozen=True)
class Model:
    name: str
    layer: Layer
    path: Path
    sql: str
    materialized: Materialized
    depends_on: tuple[str, ...]
    unique_key: str | None = None
    watermark: str | None = None
    lookback: float = 0

    @property
    def schema(self) -> str:
        return SCHEMA[self.layer]

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Project:
    models: tuple[Model, ...]  # dependency order

    def model(self, name: str) -> Model:
        for model in self.models:
            if model.name == name:
                return model
        raise ConfigError(f"transforms: no model named {name!r}")

    def fingerprint(self, name: str) -> str:
        """A hash of the model's SQL, every model upstream of it and the source declarations. An
        incremental table built under another fingerprint is rebuilt whole: its old rows were computed
        by different logic or with different column types."""
        todo, lineage = [name], set()
        while todo:
            current = todo.pop()
            if current not in lineage:
                lineage.add(current)
                todo.extend(self.model(current).depends_on)
        digest = hashlib.sha256(SOURCES_FILE.read_bytes())
        for model_name in sorted(lineage):
            digest.update(self.model(model_name).sql.encode())
        return digest.hexdigest()

    def downstream(self, names: set[str]) -> list[Model]:
        """``names`` and every model that depends on them, in build order."""
        picked = set(names)
        for model in self.models:
            if picked.intersection(model.depends_on):
                picked.add(model.name)
        return [model for model in self.models if model.name in picked]


def _settings(path: Path, sql: str) -> dict[str, str]:
    settings = {}
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        if match := SETTING.match(line.strip()):
            settings[match[1]] = match[2]
    return settings


def _references(path: Path, sql: str) -> tuple[set[str], set[str]]:
    """(bare table names, schema-qualified names) the SQL reads, CTE names excluded."""
    try:
        tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
    except sqlglot.errors.ParseError as exc:
        raise ConfigError(f"transforms: {path.parent.name}/{path.name}: {exc}") from exc
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    bare, qualified = set(), set()
    for table in tree.find_all(exp.Table):
        if table.db:
            qualified.add(f"{table.db}.{table.name}")
        elif table.name not in ctes:
            bare.add(table.name)
    return bare, qualified


def _read(path: Path, layer: Layer) -> tuple[Model, set[str]]:
    """The model and the schema-qualified tables it reads."""
    sql = path.read_text(encoding="utf-8")
    settings = _settings(path, sql)
    materialized = settings.get("materialized", DEFAULT_MATERIALIZED[layer])
    if materialized not in ("view", "table", "incremental"):
        raise ConfigError(f"transforms: {path.name}: materialized must be view, table or incremental")
    if materialized == "incremental" and not {"unique_key", "watermark"} <= settings.keys():
        raise ConfigError(f"transforms: {path.name}: an incremental model needs unique_key and watermark")
    bare, qualified = _references(path, sql)
    model = Model(name=path.stem, layer=layer, path=path, sql=sql.strip().rstrip(";"),
                  materialized=materialized, depends_on=tuple(sorted(bare)),  # type: ignore[arg-type]
                  unique_key=settings.get("unique_key"), watermark=settings.get("watermark"),
                  lookback=float(settings.get("lookback", 0)))
    return model, qualified


@cache
def load_project(root: Path = ROOT) -> Project:
    """Parse every model and order them by dependency. Reads files only: safe at DAG parse time."""
    found: dict[str, Model] = {}
    for layer in LAYERS:
        for path in sorted((root / layer).glob("*.sql")):
            model, qualified = _read(path, layer)  # type: ignore[arg-type]
            if model.name in found:
                raise ConfigError(f"transforms: two models are named {model.name!r}")
            for name in qualified:
                schema = name.split(".", 1)[0]
                if schema not in EXTERNAL_SCHEMAS:
                    raise ConfigError(f"transforms: {path.name} reads {name}: refer to models by bare name and "
                                      f"to external tables in {sorted(EXTERNAL_SCHEMAS)} by schema")
            found[model.name] = model
    for model in found.values():
        unknown = set(model.depends_on) - found.keys()
        if unknown:
            raise ConfigError(f"transforms: {model.path.name} reads {sorted(unknown)}, which no model defines")
        if model.layer == "staging" and model.depends_on:
            raise ConfigError(f"transforms: {model.path.name}: staging models read only sources")
    graph = TopologicalSorter({name: set(model.depends_on) for name, model in sorted(found.items())})
    try:
        order = list(graph.static_order())
    except CycleError as exc:
        raise ConfigError(f"transforms: models depend on each other in a cycle: {exc.args[1]}") from exc
    return Project(tuple(found[name] for name in order))


def render(model: Model, project: Project, dialect: str) -> str:
    """The model's SQL with model references qualified by schema and macros expanded, in the target's
    dialect."""
    schemas = {m.name: m.schema for m in project.models}
    tree = sqlglot.parse_one(model.sql, read=SOURCE_DIALECT)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not table.db and table.name not in ctes and table.name in schemas:
            table.set("db", exp.to_identifier(schemas[table.name]))
    return expand(tree).sql(dialect=dialect, pretty=True)
