"""What the layers below the app read from the hub's configuration.

The app's ``HubConfig`` (channelhub.yml) satisfies :class:`Hub`. The models (transforms) and the quality
gates (expectations) take a ``Hub``, so they depend on this description and not on the app above them:
the app calls them, never the other way round.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from connectors.sdk import Account


class Hub(Protocol):
    @property
    def warehouse_url(self) -> str: ...

    @property
    def home(self) -> Path:
        """The local working directory: dlt state, dbt's files, the docs sites."""
        ...

    def enabled_accounts(self) -> list[str]: ...

    def account(self, name: str, *, resolve_secrets: bool = True) -> Account[Any]: ...

    def stock_policy_rows(self) -> list[dict[str, Any]]:
        """The resolved ``ops.stock_policy`` rows (empty without stock write-back)."""
        ...

    def stock_location_rows(self) -> list[dict[str, Any]]:
        """The ``ops.stock_locations`` rows: which ERP warehouses each channel location sells from."""
        ...

    def bundle_rows(self) -> list[dict[str, Any]]:
        """The ``ops.bundles`` rows: each bundle SKU's components and units per bundle."""
        ...

    def access_policy(self) -> dict[str, Any]:
        """Department roles on PostgreSQL: ``role_prefix`` and ``departments`` (name -> marts, pii,
        password_env and the password read from it, None when unset)."""
        ...

    def counted_warehouses(self) -> list[str]:
        """Warehouses whose stock counts as on hand; empty: all of them."""
        ...

    def counted_stock_sources(self) -> list[str]:
        """The ERP accounts whose stock counts as on hand; empty: every ERP's."""
        ...
