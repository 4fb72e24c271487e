"""Pre-wiring Metabase to the warehouse: ``channelhub metabase`` (the compose stack's ``metabase-init``).

On a fresh Metabase it creates the first admin with the setup token, then registers the warehouse as a
PostgreSQL database read through a read-only role; on one already set up it logs in and adds the
warehouse only if no database of that name exists, so the step can run on every start. It waits for
Metabase to finish starting (a JVM needs a minute or two)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
import sqlalchemy as sa
from tenacity import Retrying, retry_if_exception_type, retry_if_result, stop_after_delay, wait_fixed

from connectors.sdk import ChannelhubError

WAREHOUSE_NAME = "channelhub warehouse"


class MetabaseError(ChannelhubError):
    """Metabase refused a step; the message says which and why, never a password."""


@dataclass(frozen=True)
class MetabaseAdmin:
    email: str
    password: str
    site_name: str = "channelhub"


def warehouse_details(bi_url: str) -> dict[str, Any]:
    """Metabase's PostgreSQL connection details from the read-only role's URL."""
    url = sa.engine.make_url(bi_url)
    if url.get_backend_name() != "postgresql":
        raise MetabaseError(f"the BI URL must be postgresql://user:password@host:port/database, not {url.drivername}")
    return {"host": url.host, "port": url.port or 5432, "dbname": url.database, "user": url.username,
            "password": url.password, "ssl": False}


def _call(method: str, url: str, step: str, **kwargs: Any) -> dict[str, Any]:
    response = requests.request(method, url, timeout=30, **kwargs)
    if response.status_code >= 400:
        raise MetabaseError(f"Metabase refused {step}: HTTP {response.status_code} {response.text[:200]}")
    return response.json()


def wait_until_up(base_url: str, timeout: float = 600) -> None:
    def health() -> int | None:
        try:
            return requests.get(f"{base_url}/api/health", timeout=10).status_code
        except requests.ConnectionError:
            return None

    status = Retrying(stop=stop_after_delay(timeout), wait=wait_fixed(min(5.0, timeout / 30)),
                      retry=retry_if_result(lambda code: code != 200) | retry_if_exception_type(requests.Timeout),
                      retry_error_callback=lambda state: state.outcome.result())(health)
    if status != 200:
        raise MetabaseError(f"Metabase at {base_url} did not come up within {timeout:.0f}s (health: {status})")


def connect_metabase(base_url: str, admin: MetabaseAdmin, bi_url: str, *, wait: float = 600) -> str:
    """Set Metabase up (first run) and register the warehouse; returns what was done."""
    base_url = base_url.rstrip("/")
    wait_until_up(base_url, wait)
    token = _call("GET", f"{base_url}/api/session/properties", "reading its properties").get("setup-token")
    if token:
        session = _call("POST", f"{base_url}/api/setup", "the first-run setup", json={
            "token": token,
            "user": {"email": admin.email, "password": admin.password, "first_name": "channelhub",
                     "last_name": "admin", "site_name": admin.site_name},
            "prefs": {"site_name": admin.site_name, "site_locale": "en", "allow_tracking": False}})["id"]
        done = "set up Metabase and "
    else:
        session = _call("POST", f"{base_url}/api/session", "the admin login (check METABASE_ADMIN_PASSWORD)",
                        json={"username": admin.email, "password": admin.password})["id"]
        done = ""
    headers = {"X-Metabase-Session": session}
    listed = _call("GET", f"{base_url}/api/database", "listing databases", headers=headers)
    existing = listed["data"] if isinstance(listed, dict) else listed  # older versions answer a plain list
    if any(database["name"] == WAREHOUSE_NAME for database in existing):
        return done + f"found {WAREHOUSE_NAME!r} already registered"
    _call("POST", f"{base_url}/api/database", "registering the warehouse", headers=headers, json={
        "name": WAREHOUSE_NAME, "engine": "postgres", "details": warehouse_details(bi_url), "is_full_sync": True})
    return done + f"registered {WAREHOUSE_NAME!r}"
