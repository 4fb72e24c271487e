"""The sandbox kit: one bucket for every rate limit, a fault switchboard that breaks exactly the armed
number of requests under concurrency, and keep-alive connections."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from urllib.parse import urlsplit

import requests

from sandbox.kit import Bucket
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
