"""The Yonyou U8 connector: an ERP read directly from its SQL Server company database, declared as
tables on the SDK's database connector (:mod:`connectors.sdk.sql_source`)."""

from __future__ import annotations

from typing import ClassVar

from connectors.sdk import ConnectorKind
from connectors.sdk.sql_source import SqlConnector

from .client import TABLES
from .settings import U8Settings


class YonyouU8Connector(SqlConnector[U8Settings]):
    name: ClassVar[str] = "yonyou_u8"
    kind: ClassVar[ConnectorKind] = ConnectorKind.ERP
    settings_model = U8Settings
    tables = TABLES
    system = "a U8 company database"
