"""The sandbox kit: one bucket for every rate limit, a fault switchboard that breaks exactly the armed
number of requests under concurrency, keep-alive connections, and the paging styles."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from urllib.parse import urlsplit

import pytest
import requests
from werkzeug.wrappers import Response

from sandbox.kit import Bucket, oauth1
from sandbox.kit.idempotency import IdempotencyConflict, IdempotencyStore
from sandbox.kit.paging import OpaqueCursor, keyset_page, link_header, numbered_page
from tests.connectors.test_sdk_http import EchoSandbox


def test_a_bucket_refuses_past_its_size_and_refills_at_its_rate() -> None:
    bucket = Bucket(size=3, rate=20.0)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.used() == 3
    time.sleep(0.11)  # 2.2 units back
    assert bucket.take(2) and not bucket.take(1)
    assert not Bucket(size=10, rate=1.0).take(11)  # a cost above the size never fits


def test_armed_faults_break_exactly_that_many_concurrent_requests() -> None:
    with EchoSandbox() as sandbox:
        sandbox.faults.server_error = 25
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(lambda _: requests.get(f"{sandbox.base_url}/items", timeout=10).status_code,
                                     range(100)))
    assert statuses.count(503) == 25 and statuses.count(200) == 75
    assert sandbox.faults.server_error == 0 and sandbox.stats.faults_served["server_error"] == 25


def test_a_client_keeps_its_connection_across_pages() -> None:
    """HTTP/1.1 keep-alive: five pages over one socket (a server answering ``Connection: close`` makes
    the client open a new one for every page)."""
    with EchoSandbox() as sandbox:
        url = urlsplit(sandbox.base_url)
        connection = HTTPConnection(url.hostname, url.port, timeout=10)
        sockets = set()
        for _ in range(5):
            connection.request("GET", "/items")
            answer = connection.getresponse()
            assert answer.status == 200 and answer.version == 11 and json.loads(answer.read())["items"]
            assert answer.getheader("Connection") != "close"
            sockets.add(connection.sock.getsockname())
        connection.close()
    assert len(sockets) == 1


def test_paging_styles_say_what_is_on_the_page_and_what_comes_next() -> None:
    items = [f"id_{n:02d}" for n in range(25)]
    last = numbered_page(items, 3, 10)
    assert (list(last.items), last.pages, last.has_next) == (items[20:], 3, False)
    assert numbered_page([], 1, 10).pages == 1  # an empty listing has its one empty page
    assert link_header("http://h/orders", {"page": 2, "per_page": 10}, {"prev": {"page": 1}, "next": {"page": 3}}) == (
        '<http://h/orders?page=1&per_page=10>; rel="prev", <http://h/orders?page=3&per_page=10>; rel="next"')
    assert link_header("http://h/orders", {}, {}) is None

    def ident(item: str) -> str:
        return item

    assert keyset_page(items, ident, 10) == (items[:10], True)
    assert keyset_page(items, ident, 10, after="id_19") == (items[20:], False)
    assert keyset_page(items, ident, 10, before="id_05") == (items[:5], False)
    with pytest.raises(KeyError):
        keyset_page(items, ident, 10, after="id_99")

    token = OpaqueCursor.encode({"after": "id_09", "status": "any"})
    assert OpaqueCursor.decode(token) == {"after": "id_09", "status": "any"} and "=" not in token
    for forged in ("not-a-token", OpaqueCursor.encode({"a": 1})[:-3] + "xyz", "W10"):  # junk, edited, a list
        with pytest.raises(ValueError, match="not a token"):
            OpaqueCursor.decode(forged)


def test_an_idempotency_key_replays_the_first_answer_and_refuses_other_parameters() -> None:
    store, handled = IdempotencyStore(), []

    def refund(amount: int) -> Callable[[], Response]:
        def handle() -> Response:
            handled.append(amount)
            return Response(f'{{"id": "re_{len(handled)}", "amount": {amount}}}', status=200)
        return handle

    first = store.answer("sk_a", "key-1", b"amount=500", refund(500))
    again = store.answer("sk_a", "key-1", b"amount=500", refund(500))
    assert handled == [500] and again.get_data() == first.get_data() and again.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(IdempotencyConflict):
        store.answer("sk_a", "key-1", b"amount=900", refund(900))
    store.answer("sk_b", "key-1", b"amount=500", refund(500))  # another credential's key
    store.answer("sk_a", None, b"amount=500", refund(500))     # no key: handled every time
    assert handled == [500, 500, 500] and store.replayed == 1


def test_the_oauth1_verifier_signs_rfc_5849s_published_example() -> None:
    """RFC 5849 section 1.2: the photos example, HMAC-SHA1 with a token, signs to MdpQcU8iPSUjWoN/UDMsK2sui9I=."""
    params = {"file": "vacation.jpg", "size": "original", "oauth_consumer_key": "dpf43f3p2l4k3l03",
              "oauth_token": "nnch734d00sl2jdk", "oauth_signature_method": "HMAC-SHA1",
              "oauth_timestamp": "137131202", "oauth_nonce": "chapoH"}
    url, key = "http://photos.example.net/photos", "kd94hf93k423kf44&pfkkdhi9sl3r4s00"
    assert oauth1.signature("GET", url, params, key, "HMAC-SHA1") == "MdpQcU8iPSUjWoN/UDMsK2sui9I="
    signed = {**params, "oauth_signature": "MdpQcU8iPSUjWoN/UDMsK2sui9I="}
    assert oauth1.signature_valid("GET", url, signed, ["wrong&", key])
    assert not oauth1.signature_valid("GET", url, {**signed, "size": "large"}, [key])  # a parameter changed
