"""The connector contract as a pytest plugin, for connectors in this repository and in separate packages.

A connector's test module writes a :class:`ContractEnv` (its sandbox plus a config with one account) and
two classes::

    class TestAcmeContract(ConnectorContract):
        env_class = AcmeEnv

    class TestAcmeOnPostgres(PostgresParity):
        env_class = AcmeEnv

The plugin (entry point ``pytest11``) adds the ``postgres_url`` fixture, a throw-away database on the
PostgreSQL service named by ``CHANNELHUB_TEST_PG``, and ``make_env`` (envs of a test's own, closed after
it). Checks on what a load gives (e.g. through the marts) go in a mixin of both classes, so they run on
each warehouse's one load. A file connector's env builds on
:class:`DropFolderEnv` (pages are files in a sandbox drop folder), a database connector's on
:class:`DatabaseEnv` (a sandbox database on the MariaDB service named by ``CHANNELHUB_TEST_MARIADB``),
a tracker's on :class:`TrackerEnv` (the waybills the hub knows, written into the env's warehouse).
"""

from .checks import check_order_marts, check_stock_marts, check_stock_push
from .contract import ConnectorContract, ContractEnv, PostgresParity, WorldSandboxEnv, count_rows, snapshot
from .database import DatabaseEnv, scratch_mariadb_url
from .files import DropFolderEnv
from .tracking import TrackerEnv

__all__ = ["ConnectorContract", "ContractEnv", "DatabaseEnv", "DropFolderEnv", "PostgresParity", "TrackerEnv", "WorldSandboxEnv",
           "check_order_marts", "check_stock_marts", "check_stock_push", "count_rows", "scratch_mariadb_url",
           "snapshot"]
