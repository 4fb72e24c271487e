"""The shared HTTP policy: Retry-After (Shopify's float form included), retries, pacing, bad pages."""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from connectors.sdk import LeakyBucketPacer, RetryPolicy, SourceDataError, paginate_checked, retrying_session
from connectors.sdk.http import CertificateError, Unreachable, retry_after_seconds
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


def test_an_unreachable_host_is_said_in_seconds_with_what_to_check(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing listens: three quick tries, each logged without the query, then one clear error; the eight
    attempts and minute-long backoff of the default policy are for servers that answer."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    session = retrying_session(RetryPolicy())
    started = time.perf_counter()
    with caplog.at_level("WARNING", logger="channelhub.http"), pytest.raises(Unreachable) as failed:
        session.get(f"http://127.0.0.1:{port}/items?token=secret-token")
    assert time.perf_counter() - started < 10
    assert str(failed.value).startswith(f"cannot reach http://127.0.0.1:{port} (connection refused; 3 tries in ")
    assert str(failed.value).endswith("check the account's base_url and that the service is up")
    assert isinstance(failed.value, requests.ConnectionError)  # still a connection failure to its callers
    assert [record.getMessage() for record in caplog.records] == [
        f"retrying /items after connection refused (attempt {n})" for n in (1, 2)]


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


@pytest.mark.reliability
@pytest.mark.parametrize("fault", ["cut_body", "gzip_mismatch"])
def test_a_body_cut_or_mangled_in_transit_is_fetched_again(sandbox: EchoSandbox, fault: str) -> None:
    """A connection reset mid-body or a gzip mismatch is retried like any transient failure."""
    setattr(sandbox.faults, fault, 2)
    session = retrying_session(RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=0.05))
    assert session.get(f"{sandbox.base_url}/items").json() == {"items": [{"id": 1}, {"id": 2}]}
    assert sandbox.stats.faults_served[fault] == 2 and sandbox.stats.requests == 3
    setattr(sandbox.faults, fault, 5)
    with pytest.raises(requests.RequestException, match=r"GET /items\?page=3 failed 2 times; last: ") as failure:
        retrying_session(RetryPolicy(max_attempts=2, initial_wait=0.01, max_wait=0.05)).get(
            f"{sandbox.base_url}/items", params={"page": 3, "access_token": "t0ps3cret", "sign": "abc"})
    assert "t0ps3cret" not in str(failure.value) and "abc" not in str(failure.value)  # the page, never a secret


@pytest.fixture
def self_signed_server(tmp_path: Path) -> Iterator[tuple[str, list[int]]]:
    """An HTTPS server whose certificate no trust store knows; the list counts TLS handshakes tried."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    handshakes: list[int] = []

    class Counting(http.server.HTTPServer):
        def get_request(self) -> Any:
            handshakes.append(1)
            sock, address = self.socket.accept()
            return context.wrap_socket(sock, server_side=True), address

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # the client refusing our certificate is the point

    server = Counting(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", handshakes
    server.shutdown()


@pytest.mark.reliability
def test_a_certificate_that_fails_verification_fails_at_once(self_signed_server: tuple[str, list[int]]) -> None:
    """A TLS certificate that fails verification fails at once, saying so."""
    url, handshakes = self_signed_server
    session = retrying_session(RetryPolicy(max_attempts=8, initial_wait=0.5, max_wait=5))
    with pytest.raises(CertificateError, match="the TLS certificate of 127.0.0.1 could not be verified") as failure:
        session.get(f"{url}/items")
    assert "not retried" in str(failure.value) and handshakes == [1]  # one attempt, no backoff
