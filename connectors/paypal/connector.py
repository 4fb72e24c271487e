"""The PayPal connector: Transaction Search (``GET /v1/reporting/transactions``, ``fields=all``) read in
windows of at most 31 days from the cursor's start to now, each paged to its ``total_pages``.

Every balance-affecting transaction is one row: payments (T00xx), refunds (T1107), withdrawals
(T0400), fees, reversals and disputes (T11xx/T12xx); staging says which is which. PayPal lists a
transaction up to three hours after it happened: the cursor's lag re-reads those three hours.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from dlt.extract.source import DltSource
from requests import RequestException

from connectors.sdk import Account, CheckResult, Connector, ConnectorKind, Cursor, SourceDataError, Stream
from connectors.sdk.gateway import windowed_resource
from connectors.sdk.rest import rest_source
from connectors.sdk.session import LoginRefused
from connectors.sdk.spec import typed

from .client import PaypalAPIError, make_client
from .settings import PaypalSettings

PATH = "/v1/reporting/transactions"
AVAILABILITY_DELAY = 3 * 3600  # seconds: "it takes a maximum of three hours for executed transactions to appear"
INITIATED = Cursor("transaction_initiation_date", source_timezone="UTC", lag=AVAILABILITY_DELAY,
                   dedup_on_boundary=True)
TIMES = ("transaction_initiation_date", "transaction_updated_date")
# transaction_info's amounts: {"currency_code": "USD", "value": "-13.79"}, land as <name>__value (decimal)
MONEY = ("transaction_amount", "fee_amount", "discount_amount", "insurance_amount", "sales_tax_amount",
         "shipping_amount", "shipping_discount_amount", "ending_balance", "available_balance")
TEXT = ("paypal_reference_id", "paypal_reference_id_type", "invoice_id", "custom_field", "transaction_subject",
        "transaction_note", "fee_amount__currency_code")


def to_record(account: str, detail: Any) -> dict[str, Any]:
    """One ``transaction_details`` item as a row: ``transaction_info``'s fields at the top (the id, the
    cursor), the other sections beside them (empty ones dropped), times in UTC, amounts exact decimals.
    Raises :class:`SourceDataError` naming the transaction and field at fault."""
    info = detail.get("transaction_info") if isinstance(detail, dict) else None
    if not isinstance(info, dict) or not isinstance(info.get("transaction_id"), str):
        raise SourceDataError(account, "transactions", "a transaction_details item has no transaction_info."
                              "transaction_id", record="(no id)", field="transaction_id")
    record_id = info["transaction_id"]

    def bad(field: str, expected: str) -> SourceDataError:
        return SourceDataError(account, "transactions", f"expected {expected}, got {info.get(field)!r:.80}",
                               record=record_id, field=field)

    row = {**{key: value for key, value in detail.items() if key != "transaction_info" and value}, **info}
    for field in TIMES:
        if field in info:
            try:
                row[field] = datetime.fromisoformat(info[field]).astimezone(UTC)
            except (TypeError, ValueError):
                raise bad(field, "an RFC 3339 time with its offset") from None
    for field in MONEY:
        if field not in info:
            continue
        amount = info[field]
        try:  # a decimal string, as PayPal writes money: a JSON number would have passed through a float
            value = Decimal(amount["value"]) if isinstance(amount["value"], str) else None
        except (TypeError, KeyError, InvalidOperation):
            value = None
        if value is None or not value.is_finite() or not isinstance(amount.get("currency_code"), str) \
                or len(amount["currency_code"]) != 3:
            raise bad(field, '{"currency_code", "value"}: an ISO 4217 code and a decimal string')
        row[field] = {"currency_code": amount["currency_code"], "value": value}
    return row


class PaypalConnector(Connector[PaypalSettings]):
    name = "paypal"
    kind = ConnectorKind.PAYMENTS
    settings_model = PaypalSettings
    streams: ClassVar[tuple[Stream, ...]] = (
        Stream("transactions", ("transaction_id",), cursor=INITIATED,
               column_types=typed((TIMES, "timestamp"), (tuple(f"{m}__value" for m in MONEY), "decimal"),
                                  (TEXT, "text")),
               required=("transaction_event_code", "transaction_amount__value", "transaction_amount__currency_code"),
               description="Balance-affecting transactions (fields=all): transaction_event_code says payment, "
                           "refund, fee, withdrawal or dispute; custom_field and invoice_id link a payment to "
                           "its shop order; nested transactions__cart_info__item_details."),
    )

    def source(self, account: Account[PaypalSettings]) -> DltSource:
        settings = account.settings
        (transactions,) = self.streams
        resource = windowed_resource(
            make_client(settings), PATH, {"fields": "all", "page_size": settings.page_size,
                                          "balance_affecting_records_only": "Y"},
            cursor=INITIATED, initial_value=settings.start_date, window=timedelta(days=settings.window_days),
            bounds=("start_date", "end_date"), render_bound=lambda when: when.isoformat(timespec="seconds"),
            data_selector="transaction_details", key="transaction_id", stream=transactions.name,
            account=account.name, convert=lambda detail: to_record(account.name, detail),
            **transactions.resource_hints())
        return rest_source("paypal", {"base_url": settings.base_url}, [resource])

    def check(self, account: Account[PaypalSettings]) -> CheckResult:
        """A token, then one search of the last day: proves the credentials and Transaction Search access."""
        settings = account.settings
        end = datetime.now(UTC).replace(microsecond=0)
        try:
            page = make_client(settings).get(PATH, params={
                "start_date": (end - timedelta(days=1)).isoformat(), "end_date": end.isoformat(), "page_size": 1})
        except (LoginRefused, PaypalAPIError) as exc:
            return CheckResult(False, f"{exc} (Transaction Search must be enabled for the REST app)")
        except RequestException as exc:
            return CheckResult(False, f"cannot reach PayPal at {settings.base_url}: {type(exc).__name__}")
        body = page.json()
        return CheckResult(True, f"PayPal account {body.get('account_number')}: {body.get('total_items', 0)} "
                                 "transactions in the last day",
                           {"account_number": body.get("account_number"), "last_day": body.get("total_items")})
