"""Throw-away databases on the PostgreSQL service: the warehouse-parity tests run on real PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2

PG_ADMIN_DSN = os.environ.get("CHANNELHUB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _admin(*statements: tuple[str, tuple]) -> None:
    conn = psycopg2.connect(PG_ADMIN_DSN)
    conn.autocommit = True  # psycopg2's `with conn` would open a transaction, and CREATE DATABASE refuses one
    with conn.cursor() as cur:
        for sql, args in statements:
            cur.execute(sql, args)
    conn.close()


_in_use: set[int] = set()  # slots of this process's databases


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the PostgreSQL service (its URL), dropped afterwards. Names repeat within
    a process (``channelhub_test_<pid>_<n>``, the lowest free n), so dbt parses the project once per
    name rather than once per database (transforms.project.Dbt.manifest)."""
    slot = min(set(range(len(_in_use) + 1)) - _in_use)
    _in_use.add(slot)
    name = f"channelhub_test_{os.getpid()}_{slot}"
    drop = (("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (name,)),
            (f'drop database if exists "{name}"', ()))
    try:
        _admin(*drop, (f'create database "{name}"', ()))
        yield f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    finally:
        _admin(*drop)
        _in_use.discard(slot)
