"""One configured account as a connector sees it: its name, its validated settings and the streams
it loads.

It lives in the SDK, not in the app's config module, so a connector package depends on the SDK alone
and a connector shipped outside this repository never imports channelhub itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from .settings import ConnectorSettings

if TYPE_CHECKING:
    from .spec import Connector
    from .tracking import QueryAllowance, Waybill

S = TypeVar("S", bound=ConnectorSettings)


@dataclass(frozen=True)
class Account(Generic[S]):
    """``selected``: the stream names the account chose in channelhub.yml (``streams:``), or None
    for every stream its connector offers it (see :meth:`Connector.streams_for`). ``waybills`` and ``allowance``: for a
    tracker (:class:`connectors.sdk.tracking.WaybillTracker`), what the runner asks it to follow, and how
    many queries the day's quota still allows."""

    name: str
    connector: Connector[S]
    settings: S
    schedule: str = "@daily"
    selected: tuple[str, ...] | None = None
    phone_region: str | None = None  # ISO 3166 region phones without a country code are read in
    waybills: tuple[Waybill, ...] = ()  # a tracker's parcels to ask about, filled by the runner (sdk/tracking.py)
    allowance: QueryAllowance | None = None  # a tracker's queries left today, set by the runner (sdk/tracking.py)

    @property
    def dataset(self) -> str:
        return f"raw_{self.name}"

    @property
    def pipeline_name(self) -> str:
        return f"channelhub_{self.name}"
