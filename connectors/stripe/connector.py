"""The Stripe connector: payments, refunds, fees and payouts that settle the shops' orders."""

from __future__ import annotations

from typing import TYPE_CHECKING

import requests
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth

from connectors.sdk import (
    Account,
    CheckResult,
    Connector,
    ConnectorKind,
    Cursor,
    Stream,
    paginate_checked,
    retrying_session,
)

from .client import StripeAPIError, headers, make_client
from .settings import StripeSettings
from .source import stripe_source

if TYPE_CHECKING:
    from dlt.extract.source import DltSource

# Stripe lists filter only by ``created``: a later change to an object is seen while the object was
# created within this lookback of the newest one loaded (charges besides follow /v1/events: source.py).
LOOKBACK_DAYS = 3
CREATED = Cursor("created", source_timezone="UTC", lag=LOOKBACK_DAYS * 86_400, row_order="desc")  # newest first


class StripeConnector(Connector[StripeSettings]):
    name = "stripe"
    kind = ConnectorKind.PAYMENTS
    settings_model = StripeSettings
    streams = (
        Stream("charges", ("id",), cursor=CREATED, column_types=(
            ("billing_details__address__country", "text"), ("disputed", "bool"), ("failure_code", "text")),
               description="Card payments; metadata__order_id links a charge to its shop order."),
        Stream("payment_intents", ("id",), cursor=CREATED, description="The payment flow behind each charge."),
        Stream("refunds", ("id",), cursor=CREATED, description="Money returned, linked to charge and intent."),
        Stream("balance_transactions", ("id",), cursor=CREATED, column_types=(("description", "text"),),
               description="Ledger of charges, refunds and payouts with Stripe's fee and the net."),
        Stream("payouts", ("id",), cursor=CREATED, description="Transfers of the balance to the bank account."),
        Stream("customers", ("id",), cursor=CREATED, column_types=(("currency", "text"), ("description", "text")),
               description="Stripe customers who paid."),
    )

    def source(self, account: Account[StripeSettings]) -> DltSource:
        settings = account.settings
        return stripe_source(account.name, settings, self.streams_for(account))

    def source_keys(self, account: Account[StripeSettings], stream: Stream) -> list[tuple[str]] | None:
        """Every customer id (``/v1/customers``, 100 a page), for the reconciliation: a deleted customer is
        never listed again. Charges, refunds, payment intents, balance transactions and payouts are never
        deleted in Stripe: none."""
        if stream.name != "customers":
            return None
        client = RESTClient(**make_client(account.settings))
        pages = paginate_checked(client, account.name, stream.name, "/v1/customers", data_selector="data",
                                 params={"limit": 100})
        return [(customer["id"],) for page in pages for customer in page]

    def check(self, account: Account[StripeSettings]) -> CheckResult:
        """``GET /v1/account``: the cheapest call that proves the key works and names the account."""
        settings = account.settings
        key = settings.api_key.get_secret_value()
        url = f"{settings.base_url.rstrip('/')}/v1/account"
        try:
            response = retrying_session(settings.retry_policy()).get(url, auth=BearerTokenAuth(key), headers=headers(settings))
        except requests.RequestException as exc:
            return CheckResult(False, f"cannot reach Stripe at {settings.base_url}: {type(exc).__name__}")
        if response.status_code == 401:
            return CheckResult(False, f"Stripe rejected the API key (HTTP 401): {StripeAPIError(response).stripe_message}"
                                      " Use a secret key (sk_...) or a restricted key (rk_...) with read access.")
        if response.status_code != 200:
            return CheckResult(False, str(StripeAPIError(response)))
        body = response.json()
        mode = "live" if key.startswith(("sk_live_", "rk_live_")) else "test"
        name = (body.get("business_profile") or {}).get("name") or body.get("email") or "unnamed"
        return CheckResult(True, f"Stripe account {body.get('id')} ({name}), {mode} mode", facts={
            "account_id": body.get("id"), "mode": mode, "country": body.get("country"),
            "default_currency": body.get("default_currency"), "charges_enabled": body.get("charges_enabled"),
        })
