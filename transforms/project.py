"""The dbt project in this folder: where it is, how dbt is invoked, and what it contains.

Everything dbt writes (its ``target/`` with the manifest and partial-parse state, its logs) goes under
the channelhub home, never into the package, so an installed wheel and a read-only checkout work.
The warehouse comes from channelhub.yml: :func:`profile_env` turns its URL into the variables
``profiles.yml`` reads, with the password in a ``DBT_ENV_SECRET_`` variable that dbt scrubs from logs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache, cached_property
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import yaml

from connectors.sdk import ConfigError
from warehouse import Hub, Warehouse

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult
    from dbt.contracts.graph.manifest import Manifest

ROOT = Path(__file__).parent
MARTS = ROOT / "models" / "marts"
MARTS_SCHEMA = "marts"
PASSWORD_VARIABLE = "DBT_ENV_SECRET_CHANNELHUB_PG_PASSWORD"
MEMORY_VARIABLE, DEFAULT_MEMORY = "CHANNELHUB_DBT_DUCKDB_MEMORY", "500MB"  # profiles.yml reads the same


class DbtFailed(ConfigError):
    """dbt could not parse or select: the project or the command is wrong, nothing was built."""


def connector_models() -> dict[str, Path]:
    """{connector: the ``models/`` folder its installed package ships beside its code} (staging models
    in ``models/staging/<connector>/`` with their sources YAML, conformed ones in
    ``models/intermediate/``), so a connector in its own package needs no file in this project."""
    import sys

    from connectors.sdk import available_connectors

    folders = {name: Path(sys.modules[type(c).__module__].__file__).parent / "models"
               for name, c in available_connectors().items()}
    return {name: folder for name, folder in sorted(folders.items()) if folder.is_dir()}


def conformed_models(folders: Sequence[Path]) -> dict[str, list[str]]:
    """{role: [model names]}: the ``int_<connector>__<role>`` models of installed connectors in
    ``folders``, which the marts union by role (macros/conformed.sql), so no mart names a connector."""
    from connectors.sdk import available_connectors

    names = "|".join(sorted(available_connectors(), key=len, reverse=True))
    pattern = re.compile(rf"int_(?:{names})__(?P<role>[a-z0-9_]+)")
    found: dict[str, list[str]] = {}
    for path in sorted(p for folder in folders for p in folder.rglob("int_*.sql")):
        if match := pattern.fullmatch(path.stem):
            found.setdefault(match["role"], []).append(path.stem)
    return {role: sorted(models) for role, models in sorted(found.items())}


def configured_connectors(hub: Hub) -> set[str]:
    """The connectors of the hub's enabled accounts: those whose models a build runs."""
    return {hub.account(name, resolve_secrets=False).connector.name for name in hub.enabled_accounts()}


def _connector_of(model: str) -> str | None:
    """The connector a model is named for (``stg_<connector>__…``, ``int_<connector>__…``), or None."""
    match = _model_name_pattern().fullmatch(model)
    return match["connector"] if match else None


@cache
def _model_name_pattern() -> re.Pattern[str]:
    from connectors.sdk import available_connectors

    names = "|".join(sorted(available_connectors(), key=len, reverse=True))
    return re.compile(rf"(?:stg|int)_(?P<connector>{names})__.+")


def mart_names() -> list[str]:
    """The marts, from the file names alone: cheap enough for Airflow's DAG parsing."""
    return sorted(path.stem for path in MARTS.glob("*.sql"))


def profile_env(warehouse: Warehouse) -> dict[str, str]:
    """The variables ``profiles.yml`` reads for this warehouse."""
    if warehouse.kind == "duckdb":
        return {"CHANNELHUB_DBT_TARGET": "duckdb", "CHANNELHUB_DBT_DUCKDB_PATH": str(warehouse.duckdb_path.resolve())}
    url = sa.engine.make_url(warehouse.url)
    return {"CHANNELHUB_DBT_TARGET": "postgres", "CHANNELHUB_DBT_PG_HOST": url.host or "127.0.0.1",
            "CHANNELHUB_DBT_PG_PORT": str(url.port or 5432), "CHANNELHUB_DBT_PG_USER": url.username or "postgres",
            "CHANNELHUB_DBT_PG_DBNAME": url.database or "postgres", PASSWORD_VARIABLE: url.password or ""}


_PARSED: dict[str, Manifest] = {}  # parse key -> manifest: see Dbt.manifest
_PARSED_KEEP = 4


def parsed_cache() -> Path:
    """Parsed manifests by parse key, shared by the processes on this machine (test workers, a CLI run
    after another one on a different warehouse file): ``$XDG_CACHE_HOME/channelhub/dbt``. A manifest
    names the database and schemas, never a credential."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "channelhub" / "dbt"


def _read_parsed(key: str) -> Manifest | None:
    """The manifest a process parsed for ``key`` (0.2 s instead of a 7 s parse), or None."""
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumuro_decoder  # (sic: dbt's spelling)

    try:
        data = (parsed_cache() / f"{key}.msgpack").read_bytes()
    except OSError:
        return None
    try:
        return Manifest.from_msgpack(data, decoder=extended_mashumuro_decoder)
    except Exception:  # noqa: BLE001  (unreadable: cut short or from another dbt; parsing again replaces it)
        return None


def _write_parsed(key: str, manifest: Manifest) -> None:
    """Keep ``manifest`` for other processes: written whole and renamed (a reader sees all or nothing),
    the oldest dropped beyond ``_PARSED_KEEP * 2`` (every change of the project makes a new key)."""
    from dbt.parser.manifest import extended_mashumaro_encoder

    folder = parsed_cache()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f"{key}.{os.getpid()}.part"
        part.write_bytes(manifest.to_msgpack(extended_mashumaro_encoder))
        part.replace(folder / f"{key}.msgpack")
        for old in sorted(folder.glob("*.msgpack"), key=lambda path: path.stat().st_mtime)[:-_PARSED_KEEP * 2]:
            old.unlink(missing_ok=True)
    except OSError:  # a read-only or full cache only costs the next process a parse
        return


class Dbt:
    """dbt's Python API (``dbtRunner``) on this project and one warehouse. The manifest is parsed once
    per process for a project and a database name, and handed to every later command, so a build costs
    at most one parse.

    ``connectors`` are the connectors the merchant configures (None: every installed one). The project
    is parsed whole, so one manifest serves every merchant, but the models of the other connectors
    are left out of :meth:`models` and every command runs with the ``conformed`` var of
    :attr:`conformed`: a merchant selling on Shopify alone builds no empty Pinduoduo views, and the
    cost of a build grows with the merchant's connectors, not with the installed ones."""

    def __init__(self, warehouse: Warehouse, work_dir: Path, connectors: Collection[str] | None = None) -> None:
        self.warehouse, self.work_dir = warehouse, work_dir
        self.connectors = None if connectors is None else frozenset(connectors)
        self._manifest: Manifest | None = None

    @classmethod
    def for_warehouse(cls, warehouse: Warehouse, home: Path, connectors: Collection[str] | None = None) -> Dbt:
        """dbt on ``warehouse``, its files under ``<channelhub home>/dbt/<warehouse kind>``."""
        return cls(warehouse, (home / "dbt" / warehouse.kind).resolve(), connectors)

    @cached_property
    def conformed(self) -> dict[str, list[str]]:
        """{role: models} the marts union: the conformed models of the configured connectors. A role
        none of them plays keeps its first model, whose staging finds no account and so gives the
        role's columns, typed, and no row."""
        if self.connectors is None:
            return self._installed_conformed
        return {role: [m for m in models if _connector_of(m) in self.connectors] or models[:1]
                for role, models in self._installed_conformed.items()}

    @cached_property
    def _installed_conformed(self) -> dict[str, list[str]]:
        project = yaml.safe_load((self._project_dir / "dbt_project.yml").read_text(encoding="utf-8"))
        return project["vars"]["conformed"]

    def _left_out(self, manifest: Manifest) -> set[str]:
        """Unique ids of the models of unconfigured connectors that nothing built reads: those read
        by name (a mart reading Stripe's charges itself) stay, as do the conformed models kept in
        :attr:`conformed`; a mart reads the others only through a union that no longer names them."""
        if self.connectors is None:
            return set()
        models = {uid: node for uid, node in manifest.nodes.items() if node.resource_type == "model"}
        kept_conformed = {model for role in self.conformed.values() for model in role}
        unioned = {model for role in self._installed_conformed.values() for model in role} - kept_conformed
        left_out = {uid for uid, node in models.items()
                    if _connector_of(node.name) not in (None, *self.connectors) and node.name not in kept_conformed}
        todo = [uid for uid in models if uid not in left_out]
        while todo:
            for dependency in models[todo.pop()].depends_on.nodes:
                if dependency in left_out and models[dependency].name not in unioned:
                    left_out.discard(dependency)
                    todo.append(dependency)
        return left_out

    @cached_property
    def _project_dir(self) -> Path:
        """This project, or, when connectors ship models, an overlay in the work directory: a copy of
        its dbt_project.yml whose model paths add theirs and whose ``conformed`` var lists their
        conformed models too. Every path in the overlay is a relative link (``models``,
        ``models_<connector>``…): dbt writes a model's compiled SQL to its path under ``target/``, and
        joined with an absolute path that would be the model's own source file. Decided once per
        instance."""
        extra = connector_models()
        if not extra:
            return ROOT
        project = yaml.safe_load((ROOT / "dbt_project.yml").read_text(encoding="utf-8"))
        overlay = self.work_dir / "project"
        overlay.mkdir(parents=True, exist_ok=True)
        links = {path: ROOT / path for key in ("model-paths", "macro-paths", "test-paths") for path in project[key]}
        links |= {f"models_{name}": folder for name, folder in extra.items()}
        for name, target in links.items():
            link = overlay / name
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(target, target_is_directory=True)
        project["model-paths"] += [f"models_{name}" for name in extra]
        project["vars"]["conformed"] = conformed_models([(overlay / path).resolve() for path in project["model-paths"]])
        (overlay / "dbt_project.yml").write_text(yaml.safe_dump(project, sort_keys=False), encoding="utf-8")
        return overlay

    def _args(self) -> list[str]:
        return ["--project-dir", str(self._project_dir), "--profiles-dir", str(ROOT),
                "--target-path", str(self.work_dir / "target"), "--log-path", str(self.work_dir / "logs")]

    def invoke(self, command: Sequence[str], *options: str) -> dbtRunnerResult:
        from dbt.cli.main import dbtRunner

        runner = dbtRunner(manifest=self._manifest) if self._manifest is not None else dbtRunner()
        if self.connectors is not None and list(command) != ["parse"]:  # the manifest is the whole project's
            options = (*options, "--vars", json.dumps({"conformed": self.conformed}))
        with _environment(profile_env(self.warehouse)):  # dbt reads its profile from os.environ
            try:
                return runner.invoke([*command, *self._args(), "--quiet", *options])
            finally:
                if self.warehouse.kind == "duckdb":
                    _release_duckdb()

    @property
    def manifest(self) -> Manifest:
        """The parsed project. A full parse costs seconds and dbt's partial parsing starts over for
        every other warehouse file (its state check hashes the profile's path), while the manifest
        depends only on the project's files, the profile's schema names and the database's name, which
        each copy is given (:func:`_on_database`): so a process (a test worker, the demo, a benchmark) keeps the last few manifests by those, and
        the first process to parse one leaves it in :func:`parsed_cache` for the others.
        Each instance gets its own copy: a run adds the macros its incremental branches call to the
        nodes' dependencies, and fingerprints are taken on the project as parsed."""
        if self._manifest is None:
            key = self._parse_key()
            if key not in _PARSED:
                while len(_PARSED) >= _PARSED_KEEP:
                    del _PARSED[next(iter(_PARSED))]
                _PARSED[key] = _read_parsed(key) or self._parse(key)
            self._manifest = _on_database(_PARSED[key].deepcopy(), self._database)
        return self._manifest

    @property
    def _database(self) -> str:
        """The name dbt gives the warehouse's database: the DuckDB file's stem, PostgreSQL's database."""
        if self.warehouse.kind == "duckdb":
            return self.warehouse.duckdb_path.stem
        return sa.engine.make_url(self.warehouse.url).database or "postgres"

    def _parse(self, key: str) -> Manifest:
        result = self.invoke(["parse"], "--no-write-json")  # results come back as objects
        if not result.success:
            raise DbtFailed(f"transforms: dbt could not parse the project: {result.exception}")
        _write_parsed(key, result.result)
        return result.result

    def _parse_key(self) -> str:
        """What a parse depends on: dbt's version, the profile but where the database is and its name (a
        manifest handed out is renamed to its warehouse's database: :func:`_on_database`), profiles.yml,
        dbt_project.yml, and every file under its model, macro and test paths (name, size and
        modification time)."""
        digest = hashlib.sha256(version("dbt-core").encode())
        profile = profile_env(self.warehouse)
        for variable in (PASSWORD_VARIABLE, "CHANNELHUB_DBT_DUCKDB_PATH", "CHANNELHUB_DBT_PG_DBNAME"):
            profile.pop(variable, None)
        digest.update(json.dumps(profile, sort_keys=True).encode())
        project = self._project_dir / "dbt_project.yml"
        for path in (ROOT / "profiles.yml", project):
            digest.update(path.read_bytes())
        paths = yaml.safe_load(project.read_text(encoding="utf-8"))
        for folder in sorted({p for key in ("model-paths", "macro-paths", "test-paths") for p in paths.get(key, [])}):
            base = (self._project_dir / folder).resolve()
            for file in sorted(base.rglob("*")):
                if file.is_file():
                    stat = file.stat()
                    digest.update(f"{folder}/{file.relative_to(base)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()

    def models(self, select: Sequence[str] | None = None) -> list[Any]:
        """The model nodes ``select`` picks (dbt's selector syntax), in dependency order; every model
        without one. A selector that picks nothing is an error, not an empty build."""
        manifest = self.manifest
        nodes = {uid: node for uid, node in manifest.nodes.items() if node.resource_type == "model"}
        if select:
            picked: set[str] = set()
            for selector in select:
                result = self.invoke(["ls", "--resource-type", "model", "--output", "json",  # no echo on stdout:
                                      "--output-keys", "unique_id", "--select", selector], "--log-level", "none")
                found = {json.loads(line)["unique_id"] for line in (result.result or [])}
                if not found:
                    raise DbtFailed(f"transforms: --select {selector!r} matches no model "
                                    f"(models: {', '.join(sorted(n.name for n in nodes.values()))})")
                picked |= found
            nodes = {uid: node for uid, node in nodes.items() if uid in picked}
        left_out = self._left_out(manifest)
        nodes = {uid: node for uid, node in nodes.items() if uid not in left_out}
        return [nodes[uid] for uid in _dependency_order(nodes)]

    def sources(self, nodes: Sequence[Any]) -> list[Any]:
        """The source nodes upstream of ``nodes``."""
        manifest = self.manifest
        found = set().union(*(lineage(manifest, node.unique_id)[0] for node in nodes)) if nodes else set()
        return [manifest.sources[uid] for uid in sorted(found) if uid in manifest.sources]

    def fingerprint(self, node: Any) -> str:
        """A hash of the logic a model's rows come from: its SQL and config, every model and source
        upstream of it, and every macro any of them calls. An incremental table built under another
        fingerprint is rebuilt whole, since its old rows were computed by other logic."""
        return _fingerprint(self.manifest, node.unique_id)


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    """``variables`` set in os.environ for the block, then every one of them as it was."""
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _release_duckdb() -> None:
    """Close the DuckDB file dbt-duckdb opened. dbt-duckdb keeps its database open in a class-level
    environment after an in-process invocation; left open, it locks every other process out of the
    file and this process's own SQLAlchemy connections (opened with another configuration) fail."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    DuckDBConnectionManager.close_all_connections()
    if environment is not None:
        environment.close()


def _dependency_order(nodes: dict[str, Any]) -> list[str]:
    """Unique ids of ``nodes``, every node after the nodes (of ``nodes``) it depends on."""
    from graphlib import TopologicalSorter

    graph = {uid: {dep for dep in node.depends_on.nodes if dep in nodes} for uid, node in nodes.items()}
    return list(TopologicalSorter(graph).static_order())


def _on_database(manifest: Manifest, database: str) -> Manifest:
    """``manifest``, parsed on a database of another name, with every model, test and source in
    ``database``: the name is all a manifest holds of where it was parsed, so every warehouse file or
    test database shares one parse."""
    for node in (*manifest.nodes.values(), *manifest.sources.values()):
        parsed_on, node.database = node.database, database
        if node.relation_name and parsed_on and node.relation_name.startswith(f'"{parsed_on}".'):
            node.relation_name = f'"{database}".{node.relation_name[len(parsed_on) + 3:]}'
    return manifest


def lineage(manifest: Manifest, unique_id: str) -> tuple[set[str], set[str]]:
    """(the node and every model and source upstream of it, every macro any of them calls)."""
    nodes: set[str] = set()
    macros: set[str] = set()
    todo = [unique_id]
    while todo:
        uid = todo.pop()
        if uid not in nodes:
            nodes.add(uid)
            if uid in manifest.nodes:
                todo.extend(manifest.nodes[uid].depends_on.nodes)
                macros.update(manifest.nodes[uid].depends_on.macros)
    calls = list(macros)
    while calls:
        for called in manifest.macros[calls.pop()].depends_on.macros:
            if called not in macros:
                macros.add(called)
                calls.append(called)
    return nodes, macros


def _fingerprint(manifest: Manifest, unique_id: str) -> str:
    nodes, macros = lineage(manifest, unique_id)
    digest = hashlib.sha256()
    for uid in sorted(nodes):
        if uid in manifest.sources:
            columns = {name: column.data_type for name, column in manifest.sources[uid].columns.items()}
            digest.update(f"{uid}:{json.dumps(columns, sort_keys=True)}".encode())
        else:
            node = manifest.nodes[uid]
            digest.update(f"{uid}:{node.checksum.checksum}:{node.config.materialized}".encode())
    for uid in sorted(macros):
        digest.update(f"{uid}:{manifest.macros[uid].macro_sql}".encode())
    return digest.hexdigest()
