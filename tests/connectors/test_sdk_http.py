"""The shared HTTP policy: Retry-After (Shopify's float form included), retries, pacing, bad pages."""

from __future__ import annotations

import time

import pytest
import requests
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from connectors.sdk import LeakyBucketPacer, RetryPolicy, SourceDataError, paginate_checked, retrying_session
from connectors.sdk.http import retry_after_seconds
from sandbox.kit import HttpSandbox, json_response
from sandbox.world import World, WorldSpec


class EchoSandbox(HttpSandbox):
    """The smallest platform: one list endpoint, a call-limit header, Retry-After: 0.2 on 429."""

    name = "echo"
    routes = Map([Rule("/items", endpoint="items")])

    def __init__(self) -> None:
        super().__init__(World(WorldSpec(orders=1, skus=1, customers=1)))
        self.call_limit = "1/40"

    def rate_limited(self, request: Request) -> Response:
        return json_response({"errors": "slow down"}, 429, {"Retry-After": "0.2"})

    def server_error(self, request: Request) -> Response:
        return json_response({"errors": "boom"}, 503)

    def after_request(self, request: Request, response: Response) -> Response:
        response.headers["X-Call-Limit"] = self.call_limit
        return response

    def items(self, request: Request) -> Response:
        return json_response({"items": [{"id": 1}, {"id": 2}]})


@pytest.fixture
def sandbox():
    with EchoSandbox() as running:
        yield running


def response_with(headers: dict[str, str]) -> requests.Response:
    response = requests.Response()
    response.headers.update(headers)
    return response


@pytest.mark.parametrize(("header", "expected"), [("2.0", 2.0), ("3", 3.0), ("0.25", 0.25)],
                         ids=["shopify-float", "integer", "fraction"])
def test_retry_after_seconds_reads_float_and_integer_forms(header: str, expected: float) -> None:
    assert retry_after_seconds(response_with({"Retry-After": header})) == expected


def test_retry_after_seconds_reads_http_dates_and_ignores_garbage() -> None:
    future = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 < retry_after_seconds(response_with({"Retry-After": future})) <= 30
    assert retry_after_seconds(response_with({"Retry-After": "soon"})) is None
    assert retry_after_seconds(response_with({})) is None


def test_rate_limits_and_server_errors_are_retried_honouring_retry_after(sandbox: EchoSandbox,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    sandbox.faults.rate_limit, sandbox.faults.server_error = 2, 2
    session = retrying_session(RetryPolicy(max_attempts=6, initial_wait=0.01, max_wait=1))
    started = time.perf_counter()
    with caplog.at_level("WARNING", logger="channelhub.http"):
        response = session.get(f"{sandbox.base_url}/items?token=secret")
    assert response.status_code == 200 and response.json()["items"][0]["id"] == 1
    assert sandbox.stats.requests == 5
    assert time.perf_counter() - started >= 0.4  # two Retry-After: 0.2 waits
    retries = [record.getMessage() for record in caplog.records]
    assert retries[0] == "retrying /items after HTTP 429 (attempt 1)" and len(retries) == 4  # the path, not the query


def test_gives_up_after_max_attempts_with_the_last_response(sandbox: EchoSandbox) -> None:
    sandbox.faults.server_error = 10
    session = retrying_session(RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05))
    assert session.get(f"{sandbox.base_url}/items").status_code == 503
    assert sandbox.stats.requests == 3


def test_answers_marked_by_also_retry_share_the_same_policy(sandbox: EchoSandbox) -> None:
    """A 200 that says "not executed" (Shopify GraphQL's THROTTLED) is retried like a 429, and the
    last answer comes back when the policy gives up."""
    sandbox.faults.rate_limit = 1
    seen: list[int] = []

    def busy(response: requests.Response) -> bool:
        seen.append(response.status_code)
        return len(seen) < 3

    session = retrying_session(RetryPolicy(max_attempts=6, initial_wait=0.01, max_wait=0.05), also_retry=busy)
    assert session.get(f"{sandbox.base_url}/items").json()["items"][0]["id"] == 1
    assert sandbox.stats.requests == 4 and seen == [200, 200, 200]  # the 429 is retried before asking
    seen.clear()
    stubborn = retrying_session(RetryPolicy(max_attempts=2, initial_wait=0.01, max_wait=0.05),
                                also_retry=lambda response: True)
    assert stubborn.get(f"{sandbox.base_url}/items").status_code == 200
    assert sandbox.stats.requests == 6


def test_timeouts_are_retried(sandbox: EchoSandbox) -> None:
    sandbox.faults.timeout, sandbox.faults.stall_seconds = 1, 1.0
    session = retrying_session(RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05, timeout=0.3))
    assert session.get(f"{sandbox.base_url}/items").status_code == 200
    assert sandbox.stats.faults_served["timeout"] == 1


def test_pacer_sleeps_before_the_bucket_overflows(sandbox: EchoSandbox) -> None:
    sandbox.call_limit = "38/40"
    pacer = LeakyBucketPacer("X-Call-Limit", leak_per_second=20, high_water=0.8)
    session = retrying_session(RetryPolicy(), pacer=pacer)
    session.get(f"{sandbox.base_url}/items")
    assert pacer.slept == pytest.approx((38 - 32) / 20)
    sandbox.call_limit = "3/40"
    session.get(f"{sandbox.base_url}/items")
    assert pacer.slept == pytest.approx((38 - 32) / 20)


def test_an_unreadable_page_names_account_stream_and_page(sandbox: EchoSandbox) -> None:
    sandbox.faults.malformed = 1
    client = RESTClient(sandbox.base_url, session=retrying_session(), paginator=SinglePagePaginator(),
                        data_selector="items")
    with pytest.raises(SourceDataError) as failure:
        list(paginate_checked(client, "shop_x", "items", "/items"))
    assert "account 'shop_x', stream 'items', record page 1" in str(failure.value)
