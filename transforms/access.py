"""Department access on a PostgreSQL warehouse: one role per department (``access:`` in channelhub.yml),
each reading only the views of its own schema ``bi_<department>``, with customers' PII masked where the
department has no use for it.

The views are ``select`` statements over the marts owned by the loader, so a department role needs no
privilege on ``marts``, ``raw_*``, ``staging`` or ``ops`` and has none. Which columns are PII is part of
each mart's contract (``meta: {pii: email | phone | name | address}`` in its YAML), so a new mart column
holding an address is masked by declaring it there, once. The roles log in read-only by default and
hold no privilege to write or create anything (not even temporary tables), so switching read-only off
in a session changes nothing.

A dbt build replaces a mart table whole and drops what depends on it, so :func:`refresh_views` re-creates
the views after every build on a warehouse where access was set up; roles are created only by
:func:`apply_access` (``channelhub access``), which needs a role allowed to create roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import yaml

from connectors.sdk import ConfigError
from warehouse import Hub, Warehouse

from .project import MARTS, MARTS_SCHEMA, mart_names

SCHEMA_PREFIX = "bi_"
MASKS = {  # what a department without pii sees instead of the value
    "email": "case when {c} is null then null else left({c}, 1) || '***@' || split_part({c}, '@', 2) end",
    "phone": "case when {c} is null then null else '***' || right({c}, 4) end",
    "name": "case when {c} is null then null else left({c}, 1) || '.' end",
    "address": "cast(null as text)",
}


@dataclass(frozen=True)
class DepartmentAccess:
    name: str
    role: str
    schema: str
    marts: tuple[str, ...]
    pii: bool
    password: str | None
    password_env: str | None


def departments(hub: Hub) -> list[DepartmentAccess]:
    policy = hub.access_policy()
    known = set(mart_names())
    result = []
    for name, department in sorted(policy["departments"].items()):
        unknown = sorted(set(department["marts"]) - known)
        if unknown:
            raise ConfigError(f"access.departments.{name}: no mart named {', '.join(unknown)} "
                              f"(have: {', '.join(sorted(known))})")
        result.append(DepartmentAccess(name, f"{policy['role_prefix']}{name}", f"{SCHEMA_PREFIX}{name}",
                                       tuple(department["marts"]), department["pii"], department["password"],
                                       department["password_env"]))
    return result


def contract_columns(mart: str) -> list[tuple[str, str | None]]:
    """(column, pii kind or None) in the mart's contract order (the table's order: tested)."""
    contract = yaml.safe_load((MARTS / f"{mart}.yml").read_text(encoding="utf-8"))["models"][0]
    return [(column["name"], (column.get("meta") or {}).get("pii")) for column in contract["columns"]]


def view_sql(department: DepartmentAccess, mart: str) -> str:
    selected = []
    for column, pii in contract_columns(mart):
        quoted = f'"{column}"'
        selected.append(quoted if pii is None or department.pii else f"{MASKS[pii].format(c=quoted)} as {quoted}")
    return (f'create view "{department.schema}"."{mart}" as select {", ".join(selected)} '
            f'from "{MARTS_SCHEMA}"."{mart}"')


def _views(conn: sa.Connection, department: DepartmentAccess) -> None:
    """Drop and re-create the department's schema in the caller's transaction: BI sees the old views or the
    new ones, never none."""
    conn.execute(sa.text(f'drop schema if exists "{department.schema}" cascade'))
    conn.execute(sa.text(f'create schema "{department.schema}"'))
    conn.execute(sa.text(f'revoke all on schema "{department.schema}" from public'))
    for mart in department.marts:
        if conn.execute(sa.text("select to_regclass(:name)"), {"name": f'"{MARTS_SCHEMA}"."{mart}"'}).scalar():
            conn.execute(sa.text(view_sql(department, mart)))  # a mart never built yet gets its view next time
    conn.execute(sa.text(f'grant usage on schema "{department.schema}" to "{department.role}"'))
    conn.execute(sa.text(f'grant select on all tables in schema "{department.schema}" to "{department.role}"'))


def _role(conn: sa.Connection, department: DepartmentAccess, database: str) -> None:
    role = department.role
    exists = conn.execute(sa.text("select 1 from pg_roles where rolname = :role"), {"role": role}).first()
    if not exists:
        conn.execute(sa.text(f'create role "{role}"'))
    # psycopg2 quotes the password client-side: DDL takes no server-side parameters
    password = sa.text(f'alter role "{role}" password :password').bindparams(password=department.password) \
        if department.password else sa.text(f'alter role "{role}" password null')
    conn.execute(sa.text(f'alter role "{role}" with login nosuperuser nocreatedb nocreaterole noreplication '
                         "nobypassrls noinherit"))
    conn.execute(password)
    conn.execute(sa.text(f'alter role "{role}" set default_transaction_read_only = on'))
    conn.execute(sa.text(f'alter role "{role}" set search_path = "{department.schema}"'))
    conn.execute(sa.text(f'grant connect on database "{database}" to "{role}"'))


def apply_access(hub: Hub) -> list[DepartmentAccess]:
    """Create or update every department's role, schema and views, in one transaction; re-run it after
    changing ``access:``. Temporary tables are taken from PUBLIC and given back to the role running this
    (the loader: dbt's incremental merges use them), so no BI role can create any object."""
    warehouse = Warehouse(hub.warehouse_url)
    if warehouse.kind != "postgres":
        raise ConfigError("department access needs a PostgreSQL warehouse (DuckDB has no roles): set warehouse.url "
                          "or CHANNELHUB_WAREHOUSE_URL to postgresql://...")
    wanted = departments(hub)
    missing = [f"{d.name} ({d.password_env})" for d in wanted if d.password_env and not d.password]
    if missing:
        raise ConfigError(f"access: the password variable of {', '.join(missing)} is not set")
    with warehouse.engine.begin() as conn:
        database = conn.execute(sa.text("select current_database()")).scalar_one()
        conn.execute(sa.text(f'revoke temporary on database "{database}" from public'))
        conn.execute(sa.text(f'grant temporary on database "{database}" to current_user'))
        conn.execute(sa.text("revoke create on schema public from public"))
        for department in wanted:
            _role(conn, department, database)
            _views(conn, department)
    return wanted


def refresh_views(conn: sa.Connection, hub: Hub) -> list[str]:
    """After a build: re-create the views of every department whose schema exists (access was set up and
    its role is there). Returns the schemas refreshed."""
    if conn.dialect.name != "postgresql":
        return []
    present = set(conn.execute(sa.text("select nspname from pg_namespace where nspname like :prefix"),
                               {"prefix": f"{SCHEMA_PREFIX}%"}).scalars())
    roles = set(conn.execute(sa.text("select rolname from pg_roles")).scalars())
    refreshed = []
    for department in departments(hub):
        if department.schema in present and department.role in roles:
            _views(conn, department)
            refreshed.append(department.schema)
    return refreshed


def describe(hub: Hub) -> list[dict[str, Any]]:
    """What each department reads, for ``channelhub access --show``."""
    return [{"department": d.name, "role": d.role, "schema": d.schema, "marts": ", ".join(d.marts),
             "pii": "visible" if d.pii else "masked"} for d in departments(hub)]
