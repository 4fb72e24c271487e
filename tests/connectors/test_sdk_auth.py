"""The SDK's refresh-token grant (Login with Amazon's shape) against a token endpoint from the kit."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from connectors.sdk.refresh_token import lwa_auth
from connectors.sdk.session import LoginRefused
from sandbox.kit import HttpSandbox, json_response
from sandbox.kit.tokens import TokenIssuer
from sandbox.world import World, WorldSpec

CLIENT, SECRET, REFRESH = "amzn1.application-oa2-client.abc", "amzn1.oa2-cs.v1.secret", "Atzr|refresh"


class LwaSandbox(HttpSandbox):
    """LWA's token endpoint and one API resource that wants ``x-amz-access-token``."""

    name = "lwa"
    routes = Map([Rule("/auth/o2/token", endpoint="token", methods=["POST"]),
                  Rule("/orders/v0/orders", endpoint="orders")])

    def __init__(self, lifetime: float) -> None:
        super().__init__(World(WorldSpec(orders=1, skus=1, customers=1)))
        self.issuer = TokenIssuer(CLIENT, SECRET, frozenset({REFRESH}), lifetime=lifetime)

    def rate_limited(self, request: Request) -> Response:
        return json_response({"errors": [{"code": "QuotaExceeded"}]}, 429)

    def server_error(self, request: Request) -> Response:
        return json_response({"errors": [{"code": "InternalFailure"}]}, 500)

    def token(self, request: Request) -> Response:
        status, body = self.issuer.grant(request.form)
        return json_response(body, status)

    def orders(self, request: Request) -> Response:
        refused = self.issuer.check(request.headers.get("x-amz-access-token"))
        if refused:
            return json_response({"errors": [{"code": "Unauthorized", "message": f"Access token {refused}"}]}, 403)
        return json_response({"payload": {"Orders": [{"AmazonOrderId": "111-0000000-0000001"}]}})


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[LwaSandbox]:
    sandbox = LwaSandbox(lifetime=getattr(request, "param", 3600))
    sandbox.serve()
    yield sandbox
    sandbox.stop()


def client(sandbox: LwaSandbox, refresh: str = REFRESH) -> RESTClient:
    auth = lwa_auth(CLIENT, SECRET, refresh, token_url=f"{sandbox.base_url}/auth/o2/token", session=requests.Session())
    return RESTClient(base_url=sandbox.base_url, auth=auth, paginator=SinglePagePaginator(), data_selector="payload.Orders")


def test_one_token_serves_every_request_while_it_lives(served: LwaSandbox) -> None:
    api = client(served)
    for _ in range(3):
        [page] = api.paginate("/orders/v0/orders")
        assert page[0]["AmazonOrderId"] == "111-0000000-0000001"
    assert served.issuer.issued == 1


@pytest.mark.parametrize("served", [60], indirect=True)
def test_a_token_is_traded_again_before_it_expires(served: LwaSandbox) -> None:
    """Tokens living 61 s are traded a minute early, i.e. at once: no request leaves with a dying token."""
    api = client(served)
    for _ in range(3):
        list(api.paginate("/orders/v0/orders"))
    assert served.issuer.issued == 3


def test_a_revoked_refresh_token_is_refused_clearly_without_the_secrets(served: LwaSandbox) -> None:
    with pytest.raises(LoginRefused, match="invalid_grant") as refused:
        list(client(served, refresh="Atzr|revoked").paginate("/orders/v0/orders"))
    assert SECRET not in str(refused.value) and "Atzr|revoked" not in str(refused.value)


def test_the_gateways_log_masking_leaves_rest_api_able_to_validate_an_auth_with_a_session() -> None:
    """gateway.py extends dlt's masked parameter names with ``session``; were rest_api to read that set
    later, it would try to mask every auth's ``session`` attribute as a string and refuse the config of
    dlt's own OAuth 2 classes and of our session login. In a fresh process, the gateway imported first."""
    script = (
        "import connectors.sdk.gateway, requests\n"
        "from dlt.sources.rest_api import rest_api_source\n"
        "from connectors.sdk.refresh_token import lwa_auth\n"
        "auth = lwa_auth('id', 'secret', 'Atzr|r', token_url='http://127.0.0.1:9/t', session=requests.Session())\n"
        "rest_api_source({'client': {'base_url': 'http://127.0.0.1:9', 'auth': auth}, 'resources': ['orders']})\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
