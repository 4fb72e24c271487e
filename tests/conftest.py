"""Fixtures shared by the whole suite: throw-away PostgreSQL databases on the real service."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg2
import pytest

PG_ADMIN_DSN = os.environ.get("CHANNELHUB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _admin() -> psycopg2.extensions.connection:
    conn = psycopg2.connect(PG_ADMIN_DSN)
    conn.autocommit = True
    return conn


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database on the PostgreSQL service, dropped afterwards."""
    name = f"channelhub_test_{uuid.uuid4().hex[:10]}"
    conn = _admin()  # psycopg2's `with conn` would open a transaction, and CREATE DATABASE refuses one
    with conn.cursor() as cur:
        cur.execute(f'create database "{name}"')
    conn.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    conn = _admin()
    with conn.cursor() as cur:
        cur.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (name,))
        cur.execute(f'drop database if exists "{name}"')
    conn.close()
