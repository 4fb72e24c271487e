"""The Shopify connector: what the hub sees (kind, settings, streams, check, stock writer)."""

from __future__ import annotations

from typing import ClassVar

from dlt.extract.source import DltSource
from dlt.sources.helpers.rest_client import RESTClient
from requests import RequestException

from connectors.sdk import Account, CheckResult, Connector, ConnectorKind, Stream, paginate_checked

from .client import make_client
from .settings import ShopifySettings
from .source import STREAMS, shopify_source
from .stock import ShopifyStockWriter

# Read scopes each stream needs (inventory items are read per product page); write_inventory only
# matters for stock pushes.
MAX_PAGE = 250  # Shopify's largest limit
LISTED_BY_ID = ("orders", "products", "customers")
STREAM_SCOPES = {"orders": ("read_orders",), "products": ("read_products",),
                 "inventory_items": ("read_products", "read_inventory"), "customers": ("read_customers",),
                 "locations": ("read_locations",), "inventory_levels": ("read_inventory", "read_locations")}


class ShopifyConnector(Connector[ShopifySettings]):
    name = "shopify"
    kind = ConnectorKind.CHANNEL
    settings_model = ShopifySettings
    streams: ClassVar[tuple[Stream, ...]] = STREAMS

    def source(self, account: Account[ShopifySettings]) -> DltSource:
        return shopify_source(account.name, account.settings)

    def check(self, account: Account[ShopifySettings]) -> CheckResult:
        """``access_scopes.json`` proves the token and tells which streams it may read; ``shop.json``
        names the shop, its currency and zone."""
        settings = account.settings
        client = RESTClient(**make_client(settings))
        root = settings.base_url.rstrip("/")
        try:
            scopes_response = client.get(f"{root}/admin/oauth/access_scopes.json")
            if scopes_response.status_code == 401:
                return CheckResult(False, f"Shopify rejected the access token of account {account.name!r} "
                                          "(HTTP 401): check secrets.access_token is the shop's Admin API token")
            if scopes_response.status_code != 200:
                return CheckResult(False, f"access_scopes.json answered HTTP {scopes_response.status_code}")
            shop_response = client.get("shop.json")
            if shop_response.status_code != 200:
                return CheckResult(False, f"shop.json answered HTTP {shop_response.status_code} "
                                          f"(is api_version {settings.api_version} supported?)")
        except RequestException as exc:
            return CheckResult(False, f"cannot reach {root}: {type(exc).__name__}")
        scopes = sorted(scope["handle"] for scope in scopes_response.json().get("access_scopes", []))
        shop = shop_response.json().get("shop", {})
        facts = {"scopes": scopes, "shop": shop.get("myshopify_domain"), "currency": shop.get("currency"),
                 "timezone": shop.get("iana_timezone"), "stock_push": "write_inventory" in scopes}
        needed = {scope for stream in self.streams_for(account) for scope in STREAM_SCOPES[stream.name]}
        missing = sorted(needed - set(scopes))
        if missing:
            return CheckResult(False, f"token lacks scopes {', '.join(missing)} for the account's streams "
                                      "(grant them, or list only the streams it may read under streams:)", facts)
        return CheckResult(True, f"{facts['shop']} ({facts['currency']}, {facts['timezone']}): "
                                 f"scopes {', '.join(scopes)}", facts)

    def source_keys(self, account: Account[ShopifySettings], stream: Stream) -> list[tuple[int]] | None:
        """Every id the shop holds of orders, products or customers (``<stream>.json?fields=id``, 250 a
        page), for the reconciliation: a deleted product or customer is never listed as updated, and an
        order's ``Order/destroy`` event is kept for a limited time only. Other streams: none (locations and
        levels are read whole or per location; inventory items follow the products read)."""
        if stream.name not in LISTED_BY_ID:
            return None
        client = RESTClient(**make_client(account.settings))
        params = {"fields": "id", "limit": MAX_PAGE, **({"status": "any"} if stream.name == "orders" else {})}
        pages = paginate_checked(client, account.name, stream.name, f"{stream.name}.json", data_selector=stream.name,
                                 params=params)
        return [(item["id"],) for page in pages for item in page]

    def stock_writer(self, account: Account[ShopifySettings]) -> ShopifyStockWriter:
        return ShopifyStockWriter(account.settings)
