"""Throw-away databases on the PostgreSQL service: the warehouse-parity tests run on real PostgreSQL."""

from __future__ import annotations

import os
import uuid
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


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new database on the PostgreSQL service (its URL), dropped afterwards."""
    name = f"channelhub_test_{uuid.uuid4().hex[:10]}"
    _admin((f'create database "{name}"', ()))
    try:
        yield f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    finally:
        _admin(("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (name,)),
               (f'drop database if exists "{name}"', ()))
