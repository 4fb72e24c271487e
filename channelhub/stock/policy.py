"""The ``stock:`` section of ``channelhub.yml``: how much of the merchant's stock each channel may sell.

Allocation per SKU and channel (computed in SQL by the ``rpt_stock_availability`` mart from the rows
:func:`policy_rows` and :func:`location_rows` write to ``ops.stock_policy`` and ``ops.stock_locations``)::

    available_to_promise = max(on_hand - reserved - safety_stock, 0)   on_hand: the channel's warehouses
    allocated            = floor(available_to_promise * percentage / 100), at most cap,
                           0 when that is below floor
    per location         = floor(allocated * location's on hand / channel's on hand)

A channel's ``locations`` map each of its locations (by name or id) to the ERP warehouses it sells
from; without them its primary (lowest-id) location sells every counted warehouse. Every other
location is set to 0 (``unmapped_locations: leave`` leaves them alone, with a warning), so no location
keeps selling stock the ERP does not back. A warehouse is sold by one location of a channel only.

``bundles`` declare kits (bundle SKU -> component SKUs × units): a bundle's ATP is the minimum over its
components of floor(component ATP / units), and open orders of a bundle reserve its components.

``floor`` keeps a channel from advertising the last unit or two it would oversell; percentages across
channels may sum to less than 100 (units kept back), and to more (the same units offered twice) only
with ``allow_overallocation: true``.

Nothing is pushed to an account that is not listed under ``channels`` (write-back is opt-in per
channel); ``enabled: false`` keeps a listed channel's rows (the mart still shows its allocation) but
stops every push to it: the kill switch.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.sdk import ConfigError, Connector, ConnectorKind, get_connector

if TYPE_CHECKING:
    from channelhub.config import AccountConfig, HubConfig

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelPolicy(_Strict):
    """Defaults for every SKU on one channel."""

    percentage: Decimal = Field(Decimal(100), ge=0, le=100)
    cap: int | None = Field(None, ge=0)
    floor: int = Field(0, ge=0)
    enabled: bool = True
    # the channel's locations (name or id) -> the ERP warehouses each sells from; unset: the primary
    # (lowest-id) location sells every counted warehouse
    locations: dict[str, list[str]] = Field(default_factory=dict)
    # a location not mapped (or every other location without a mapping) is set to 0, or left alone
    unmapped_locations: Literal["zero", "leave"] = "zero"

    @model_validator(mode="after")
    def _cap_reaches_floor(self) -> ChannelPolicy:
        if self.cap is not None and self.cap < self.floor:
            raise ValueError(f"cap {self.cap} is below floor {self.floor}: the channel would always get 0")
        return self

    @model_validator(mode="after")
    def _each_warehouse_sold_once(self) -> ChannelPolicy:
        seen: dict[str, str] = {}
        for location, warehouses in self.locations.items():
            if not warehouses:
                raise ValueError(f"locations.{location}: names no warehouse (leave the location out to set it to 0)")
            for warehouse in warehouses:
                if warehouse in seen:
                    raise ValueError(f"locations: warehouse {warehouse!r} is mapped to both {seen[warehouse]!r} and "
                                     f"{location!r}: its units would be offered twice")
                seen[warehouse] = location
        return self


class MirrorPolicy(_Strict):
    """A system channelhub shows its allocations in without selling through it (``stock.mirrors``)."""

    enabled: bool = True  # the mirror's kill switch


class SkuOverride(_Strict):
    """Rules for one SKU, on one account or (without ``account``) on every channel. Fields left out
    keep the channel's value; ``cap: null`` written out removes the channel's cap for this SKU."""

    sku: str = Field(min_length=1)
    account: str | None = None
    percentage: Decimal | None = Field(None, ge=0, le=100)
    cap: int | None = Field(None, ge=0)
    floor: int | None = Field(None, ge=0)
    safety_stock: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _changes_something(self) -> SkuOverride:
        if not self.model_fields_set & {"percentage", "cap", "floor", "safety_stock"}:
            raise ValueError(f"override of sku {self.sku!r} sets none of percentage, cap, floor, safety_stock")
        return self


class StockPolicy(_Strict):
    """The ``stock:`` section. Guardrails (``channelhub sync-stock --force`` overrides them): a sync refuses
    a channel when more than ``max_zeroed_share`` of its levels would drop to 0, or any level would fall
    by more than ``max_drop_fraction`` of what the channel holds; or, the other way, when more than
    ``max_raised_share`` of its levels would rise more than ``max_raise_factor``-fold, or its total by
    more than ``max_total_raise_fraction``."""

    safety_stock: int = Field(0, ge=0, description="units held back per SKU before any channel gets a share")
    sources: list[str] | None = Field(None, min_length=1, description="the ERP accounts whose stock counts as "
                                                                     "on hand; every ERP's when omitted")
    warehouses: list[str] | None = Field(None, min_length=1, description="ERP warehouse codes counted as on "
                                                                        "hand; all when omitted")
    max_zeroed_share: float = Field(0.2, ge=0, le=1)
    max_drop_fraction: float = Field(0.5, ge=0, le=1)
    max_raise_factor: float = Field(3.0, gt=1)
    max_raised_share: float = Field(0.2, ge=0, le=1)
    max_total_raise_fraction: float = Field(0.5, ge=0)
    channels: dict[str, ChannelPolicy] = Field(default_factory=dict)
    overrides: list[SkuOverride] = Field(default_factory=list)
    allow_overallocation: bool = False  # percentages may add up to more than 100: units offered twice
    # bills of materials: bundle (kit) SKU -> {component SKU: units per bundle}; a bundle has no stock of
    # its own: it is available as often as its scarcest component, and its sales reserve the components
    bundles: dict[str, dict[str, int]] = Field(default_factory=dict)
    # accounts (an ERP's form) shown, per SKU and listed channel, the channel's allocation and the on hand
    # and available to promise behind it; a list of names, or name -> {enabled: false} for the kill switch
    mirrors: dict[str, MirrorPolicy] = Field(default_factory=dict)

    @field_validator("mirrors", mode="before")
    @classmethod
    def _mirrors_as_list(cls, value: Any) -> Any:
        if isinstance(value, list):
            if repeated := sorted({name for name in value if value.count(name) > 1}):
                raise ValueError(f"{repeated} listed twice")
            return {name: {} for name in value}
        return value

    @model_validator(mode="after")
    def _bundles_of_components(self) -> StockPolicy:
        for bundle, components in self.bundles.items():
            if not components:
                raise ValueError(f"bundles.{bundle}: names no component")
            if bad := sorted(sku for sku, units in components.items() if units < 1):
                raise ValueError(f"bundles.{bundle}: {bad} need at least 1 unit per bundle")
            if nested := sorted(set(components) & set(self.bundles)):
                raise ValueError(f"bundles.{bundle}: components {nested} are bundles themselves; list their "
                                 "components instead")
        return self

    @model_validator(mode="after")
    def _one_override_per_target(self) -> StockPolicy:
        seen: set[tuple[str, str | None]] = set()
        for override in self.overrides:
            key = (override.sku, override.account)
            if key in seen:
                where = f"account {override.account!r}" if override.account else "all channels"
                raise ValueError(f"overrides: sku {override.sku!r} is overridden twice for {where}")
            seen.add(key)
        return self

    @model_validator(mode="after")
    def _mapped_warehouses_are_counted(self) -> StockPolicy:
        if self.warehouses:
            for name, channel in self.channels.items():
                for location, mapped in channel.locations.items():
                    if stray := sorted(set(mapped) - set(self.warehouses)):
                        raise ValueError(f"channels.{name}.locations.{location}: {stray} not among stock.warehouses "
                                         f"{self.warehouses}: their stock is never counted")
        return self

    @model_validator(mode="after")
    def _at_most_everything(self) -> StockPolicy:
        """The enabled channels' percentages of one SKU add up to at most 100 (the channels' own, and each
        overridden SKU's), unless ``allow_overallocation`` says the merchant means to offer units twice."""
        if self.allow_overallocation:
            return self
        enabled = sorted(name for name, channel in self.channels.items() if channel.enabled)
        for sku in [None, *sorted({o.sku for o in self.overrides})]:
            shares = {name: self.resolved(sku, name)[1] for name in enabled}
            total = sum(shares.values(), Decimal(0))
            if total > 100:
                where = "the channels" if sku is None else f"sku {sku!r}"
                split = ", ".join(f"{name} {share.normalize():f}" for name, share in shares.items())
                raise ValueError(f"percentages of {where} add up to {total.normalize():f}% ({split}): the same units "
                                 "would be offered twice; lower them, or set allow_overallocation: true")
        return self

    def check_accounts(self, accounts: dict[str, AccountConfig]) -> None:
        """Every account named under ``channels`` or in an override must be a configured sales channel
        whose connector can take stock pushes. Raises ``ValueError`` naming the place in the section."""
        problems = [problem for name in self.channels
                    if (problem := _not_a_target(name, accounts, f"channels.{name}"))]
        problems += [problem for i, name in enumerate(self.sources or ())
                     if (problem := _not_a_stock_source(name, accounts, f"sources[{i}]"))]
        problems += [problem for name in self.mirrors
                     if (problem := _not_a_mirror(name, accounts, f"mirrors.{name}"))]
        for i, override in enumerate(self.overrides):
            if override.account is None:
                continue
            if problem := _not_a_target(override.account, accounts, f"overrides[{i}].account"):
                problems.append(problem)
            elif override.account not in self.channels:
                problems.append(f"overrides[{i}].account: {override.account!r} is not listed under "
                                "stock.channels, so nothing is pushed to it")
        if problems:
            raise ValueError("; ".join(problems))

    def resolved(self, sku: str | None, account: str) -> tuple[int, Decimal, int | None, int]:
        """(safety_stock, percentage, cap, floor) of one SKU on one channel: the channel's values, then
        the all-channel override of the SKU, then the account's own override of it. ``sku`` None: the
        channel's defaults (no override names it)."""
        channel = self.channels[account]
        values: dict[str, Any] = {"safety_stock": self.safety_stock, "percentage": channel.percentage,
                                  "cap": channel.cap, "floor": channel.floor}
        for override in sorted((o for o in self.overrides if o.sku == sku and o.account in (None, account)),
                               key=lambda o: o.account is not None):
            values.update({name: getattr(override, name) for name in override.model_fields_set & values.keys()})
        return values["safety_stock"], values["percentage"], values["cap"], values["floor"]


def _connector_of(name: str, accounts: dict[str, AccountConfig], where: str) -> Connector | str:
    """The connector of account ``name``, or the problem naming ``where`` in the section."""
    if name not in accounts:
        return f"{where}: no account {name!r} (have: {', '.join(sorted(accounts)) or 'none'})"
    try:
        return get_connector(accounts[name].connector)
    except ConfigError as exc:
        return f"{where}: {exc}"


def _not_a_target(name: str, accounts: dict[str, AccountConfig], where: str) -> str | None:
    connector = _connector_of(name, accounts, where)
    if isinstance(connector, str):
        return connector
    if connector.kind != ConnectorKind.CHANNEL:
        return f"{where}: account {name!r} is a {connector.kind.value} account, not a sales channel"
    if type(connector).stock_writer is Connector.stock_writer:
        return f"{where}: connector {connector.name!r} of account {name!r} cannot push stock"
    return None


def _not_a_mirror(name: str, accounts: dict[str, AccountConfig], where: str) -> str | None:
    """A mirror is an enabled account whose connector writes mirror levels, set up for it (its settings
    name the form); a disabled account's credentials and form are not maintained, so mirroring to it is a
    mistake to fix in the config, not a run to skip (``enabled: false`` under the mirror stops it)."""
    connector = _connector_of(name, accounts, where)
    if isinstance(connector, str):
        return connector
    if not accounts[name].enabled:
        return (f"{where}: account {name!r} is disabled (accounts.{name}.enabled is false); "
                f"remove it from stock.mirrors or set stock.mirrors.{name}.enabled: false")
    if type(connector).mirror_writer is Connector.mirror_writer:
        return f"{where}: connector {connector.name!r} of account {name!r} cannot mirror stock"
    from channelhub.config import build_account  # the config module imports this one

    try:
        account = build_account(name, accounts[name], resolve_secrets=False)
    except ConfigError:
        return None  # the account's own settings errors are reported where they are loaded
    if connector.mirror_writer(account) is None:
        return f"{where}: account {name!r} is not set up to mirror stock (see connectors/{connector.name}/README.md)"
    return None


def _not_a_stock_source(name: str, accounts: dict[str, AccountConfig], where: str) -> str | None:
    """An ERP keeps the stock of record; a channel's, a payment provider's or a store count's figures
    are never on hand (store counts are reported in fct_inventory, not netted)."""
    connector = _connector_of(name, accounts, where)
    if isinstance(connector, str):
        return connector
    if connector.kind != ConnectorKind.ERP:
        return f"{where}: account {name!r} is a {connector.kind.value} account, not an ERP keeping stock"
    return None


def policy_rows(hub: HubConfig) -> list[dict[str, Any]]:
    """The ``ops.stock_policy`` rows: per listed channel one default row (``product_id`` None) and one
    fully resolved row per SKU an override touches on it. Empty without a ``stock:`` section."""
    policy = hub.stock
    if policy is None:
        return []
    rows = []
    for account in sorted(policy.channels):
        skus = sorted({o.sku for o in policy.overrides if o.account in (None, account)})
        for product_id in [None, *skus]:
            safety_stock, percentage, cap, floor = policy.resolved(product_id, account)
            rows.append({"channel_id": account, "product_id": product_id, "safety_stock": safety_stock,
                         "percentage": percentage, "cap": cap, "floor": floor,
                         "unmapped_locations": policy.channels[account].unmapped_locations})
    return rows


def bundle_rows(hub: HubConfig) -> list[dict[str, Any]]:
    """The ``ops.bundles`` rows: (bundle SKU, component SKU, units of it per bundle)."""
    policy = hub.stock
    if policy is None:
        return []
    return [{"bundle_id": bundle, "component_id": component, "quantity": units}
            for bundle, components in sorted(policy.bundles.items()) for component, units in sorted(components.items())]


def location_rows(hub: HubConfig) -> list[dict[str, Any]]:
    """The ``ops.stock_locations`` rows: (channel, location name or id, warehouse) per mapped warehouse."""
    policy = hub.stock
    if policy is None:
        return []
    return [{"channel_id": account, "location": location, "warehouse_id": warehouse}
            for account, channel in sorted(policy.channels.items())
            for location, warehouses in sorted(channel.locations.items()) for warehouse in warehouses]
