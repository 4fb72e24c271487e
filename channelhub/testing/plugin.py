"""pytest plugin registered under ``pytest11``: fixtures every connector's contract tests need."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .postgres import fresh_postgres_database


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database on the PostgreSQL service, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url
