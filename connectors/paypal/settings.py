"""What one PayPal account needs: the REST app's client credentials, where history starts, paging and
the search window."""

from __future__ import annotations

from pydantic import Field, SecretStr

from connectors.sdk import RestSettings, UtcDatetime

MAX_PAGE_SIZE = 500  # Transaction Search: page_size 1..500
MAX_WINDOW_DAYS = 31  # start_date..end_date: at most 31 days (400 INVALID_REQUEST beyond)


class PaypalSettings(RestSettings):
    """``base_url`` is the API host: ``https://api-m.paypal.com`` (live) or ``https://api-m.sandbox.paypal.com``.
    ``client_id``/``client_secret`` are a REST app's credentials with Transaction Search enabled. PayPal
    keeps three years of history: ``start_date`` no earlier. ``window_days``: how much each search covers;
    narrow it when PayPal answers ``RESULTSET_TOO_LARGE`` (more than 10,000 transactions in a window)."""

    base_url: str = "https://api-m.paypal.com"
    client_id: SecretStr
    client_secret: SecretStr
    start_date: UtcDatetime
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    window_days: int = Field(MAX_WINDOW_DAYS, ge=1, le=MAX_WINDOW_DAYS)
