"""The Kingdee K3Cloud connector against its sandbox: the shared contract, Kingdee's official SDK as the
outside check, the signed headers against that SDK's own signer, the session login, errors inside
HTTP 200, and what lands."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from k3cloud_webapi_sdk.core import webapi_client
from k3cloud_webapi_sdk.main import K3CloudApiSdk

from channelhub.config import HubConfig
from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from connectors.kingdee import connector
from connectors.sdk.signed_headers import kingdee_headers
from sandbox.kingdee import SHANGHAI, KingdeeSandbox
from sandbox.world import World, WorldSpec
from warehouse import Warehouse

ACCT, USER = "66a1b2c3d4e5f6", "channelhub_api"
APP_ID, APP_SECRET = "300001_0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
PASSWORD = "K3-passw0rd"
ACCOUNT = "erp_kd"


class KingdeeEnv(WorldSandboxEnv):
    """Signed headers, as the official SDK; ``password=True`` logs in with the user's password instead."""

    account = ACCOUNT
    primary_stream = "sale_orders"
    primary_key = "fid"
    fault_path = "#SAL_SaleOrder"
    environment: ClassVar[dict[str, str]] = {"TEST_KD_APP_ID": APP_ID, "TEST_KD_APP_SECRET": APP_SECRET,
                                             "TEST_KD_PASSWORD": PASSWORD}

    def __init__(self, tmp_path: Path, records: int, page_size: int, password: bool = False) -> None:
        self.world = World(WorldSpec(orders=records, skus=24, customers=60))
        self.sandbox = KingdeeSandbox(self.world, ACCT, USER, app_id=APP_ID, app_secret=APP_SECRET, password=PASSWORD)
        self.sandbox.retry_after = 0.05
        self.sandbox.serve()
        secrets = ({"password": {"env": "TEST_KD_PASSWORD"}} if password else
                   {"app_id": {"env": "TEST_KD_APP_ID"}, "app_secret": {"env": "TEST_KD_APP_SECRET"}})
        self.config = HubConfig.model_validate({
            "warehouse": {"url": f"duckdb:///{tmp_path}/wh.duckdb"},
            "accounts": {self.account: {
                "connector": "kingdee", "secrets": secrets,
                "settings": {"server_url": f"{self.sandbox.base_url}/k3cloud/", "acct_id": ACCT, "user": USER,
                             "page_size": page_size, "max_wait_seconds": 0.1, "start_date": "2025-01-01T00:00:00Z"},
            }},
        })

    def source_count(self) -> int:
        return len(self.world.orders)

    def fetched(self) -> int:
        return self.sandbox.stats.records_served["SAL_SaleOrder"]


class TestKingdeeContract(ConnectorContract):
    env_class = KingdeeEnv


class TestKingdeeOnPostgres(PostgresParity):
    env_class = KingdeeEnv
