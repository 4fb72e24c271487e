"""Pre-wiring Metabase (channelhub/metabase.py), checked by what its emulator (sandbox/metabase.py) got."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from channelhub.cli import app
from channelhub.metabase import WAREHOUSE_NAME, MetabaseAdmin, MetabaseError, connect_metabase
from sandbox.metabase import MetabaseSandbox

BI_URL = "postgresql://bi_readonly:bi-pass-123@warehouse-db:5432/warehouse"
ADMIN = MetabaseAdmin("ops@example.com", "a-long-admin-password")


@pytest.fixture
def metabase():
    with MetabaseSandbox(starting_checks=2) as running:
        yield running


def test_a_fresh_metabase_is_set_up_with_the_warehouse_read_only_once(metabase: MetabaseSandbox) -> None:
    assert connect_metabase(metabase.base_url, ADMIN, BI_URL, wait=30) == \
        f"set up Metabase and registered {WAREHOUSE_NAME!r}"  # after waiting out the 503s of its start
    assert metabase.admin["email"] == "ops@example.com" and metabase.setup_token is None
    [database] = metabase.database_list
    assert database["engine"] == "postgres" and database["details"] == {
        "host": "warehouse-db", "port": 5432, "dbname": "warehouse", "user": "bi_readonly", "password": "bi-pass-123",
        "ssl": False}
    # every start of the stack runs it again: it logs in and leaves the registered warehouse alone
    assert connect_metabase(metabase.base_url, ADMIN, BI_URL, wait=30) == f"found {WAREHOUSE_NAME!r} already registered"
    assert len(metabase.database_list) == 1


def test_a_wrong_admin_password_is_refused_clearly_without_the_password(metabase: MetabaseSandbox) -> None:
    connect_metabase(metabase.base_url, ADMIN, BI_URL, wait=30)
    with pytest.raises(MetabaseError, match="refused the admin login \\(check METABASE_ADMIN_PASSWORD\\): HTTP 401") as refused:
        connect_metabase(metabase.base_url, MetabaseAdmin(ADMIN.email, "not-it-at-all"), BI_URL, wait=30)
    assert "not-it-at-all" not in str(refused.value)


def test_channelhub_metabase_reads_its_settings_from_the_environment(metabase: MetabaseSandbox) -> None:
    env = {"METABASE_ADMIN_EMAIL": ADMIN.email, "METABASE_ADMIN_PASSWORD": ADMIN.password, "CHANNELHUB_BI_URL": BI_URL}
    done = CliRunner().invoke(app, ["metabase", "--url", metabase.base_url, "--wait", "30"], env=env)
    assert done.exit_code == 0 and f"registered {WAREHOUSE_NAME!r}" in done.output, done.output
    missing = CliRunner().invoke(app, ["metabase", "--url", metabase.base_url],
                                 env={"METABASE_ADMIN_EMAIL": "", "METABASE_ADMIN_PASSWORD": "", "CHANNELHUB_BI_URL": ""})
    assert missing.exit_code == 1 and "METABASE_ADMIN_EMAIL, METABASE_ADMIN_PASSWORD, CHANNELHUB_BI_URL" in missing.output
