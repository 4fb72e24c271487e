"""The sandbox kit: one bucket for every rate limit, a fault switchboard that breaks exactly the armed
number of requests under concurrency, keep-alive connections, and the paging styles."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.client import HTTPConnection
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
from werkzeug.wrappers import Response

from sandbox.kit import Bucket, oauth1
from sandbox.kit.idempotency import IdempotencyConflict, IdempotencyStore
from sandbox.kit.paging import OpaqueCursor, keyset_page, link_header, numbered_page
from sandbox.kit.query import QueryError, Table, fields
from sandbox.kit.stock import StockBook
from sandbox.world import World, WorldSpec
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


def test_an_oauth1_consumer_refuses_in_the_servers_order_and_spends_each_nonce_once() -> None:
    consumer = oauth1.Consumer("ck_1", "cs_1")
    url, stamp = "http://shop.test/wp-json/wc/v3/orders", str(int(time.time()))
    params = {"oauth_consumer_key": "ck_1", "oauth_signature_method": "HMAC-SHA256", "oauth_timestamp": stamp,
              "oauth_nonce": "n1", "page": "2"}
    signed = {**params, "oauth_signature": oauth1.signature("GET", url, params, "cs_1&", "HMAC-SHA256")}
    assert consumer.refusal("GET", url, {**signed, "oauth_consumer_key": "ck_2"}) == "key"
    assert consumer.refusal("GET", url, {**signed, "oauth_signature_method": "PLAINTEXT"}) == "method"
    assert consumer.refusal("GET", url, {**signed, "page": "3"}) == "signature"
    assert consumer.refusal("GET", url, signed) is None
    assert consumer.refusal("GET", url, signed) == "nonce"  # the same request replayed
    old = {**params, "oauth_timestamp": str(int(time.time()) - 3600)}
    assert consumer.refusal("GET", url, {**old, "oauth_signature": oauth1.signature("GET", url, old, "cs_1",
                                                                                      "HMAC-SHA256")}) == "timestamp"


def test_a_table_query_filters_orders_and_refuses_unknown_fields_and_bad_filters() -> None:
    """The SQL WHERE subset of ERP query services: comparisons typed by the field (times in the server's
    zone, numbers as decimals), and/or with parentheses, quoted literals with doubled quotes; nothing of
    the text is evaluated."""
    zone = ZoneInfo("Asia/Shanghai")
    docs = [("A-1", datetime(2026, 1, 1, 1, tzinfo=UTC), 5), ("B'2", datetime(2026, 1, 1, 17, tzinfo=UTC), 12),
            ("C-3", datetime(2026, 1, 1, 15, tzinfo=UTC), 7)]
    table = Table(lambda lines: [(doc, None) for doc in docs],
                  fields(FNumber=lambda d, _: d[0], FModifyDate=lambda d, _: d[1], FQty=lambda d, _: d[2]))
    numbers = [d[0] for d, _ in table.select(["FNumber"], "FModifyDate >= '2026-01-02 00:00:00' or "
                                             "(FQty < 6 and FNumber <> 'x')", "FQty DESC", zone)]
    assert numbers == ["B'2", "A-1"]  # 17:00 UTC is 01:00 the next day in Shanghai, 15:00 still the same day
    assert [d[0] for d, _ in table.select(["fnumber"], "FNumber = 'B''2'", "", zone)] == ["B'2"]
    assert table.unknown(["FNumber", "FPrice"]) == "FPrice"
    with pytest.raises(QueryError) as unknown:
        table.select(["FNumber"], "FPrice > 1", "", zone)
    assert unknown.value.field == "FPrice"
    for bad in ("FQty > 1 and", "FQty > 1; import os", "__import__('os')"):
        with pytest.raises(QueryError):
            table.select(["FNumber"], bad, "", zone)


def test_a_stock_book_settles_whole_writes_and_sales_lower_what_was_set() -> None:
    world = World(WorldSpec(orders=10, skus=8, customers=5))
    book = StockBook(world)
    before, clock = dict(book.quantities), world.now
    book.settle({0: 40, 1: 0})
    book.settle({2: -10**6}, incremental=True)
    book.sell(0, 3)
    assert (book.quantities[0], book.quantities[1], book.quantities[2]) == (37, 0, 0)
    assert book.quantities[3] == before[3] and book.modified[0] == book.modified[1] > clock
    assert book.modified[2] > book.modified[0] and book.modified[3] == world.skus[3].modified_at
