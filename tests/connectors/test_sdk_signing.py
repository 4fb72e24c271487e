"""The SDK's request-signing families against golden vectors: the platforms' published examples where they
publish one, else their official SDK's own signer on the same inputs; and the sandbox kit's verifiers,
written independently, agreeing. The connectors of a family (TOP, JD and Pinduoduo; Kingdee) reuse
these signers, so their vectors live with the SDK's tests."""

from __future__ import annotations

import pytest
import requests
from jd.api.base import sign as jd_sdk_sign
from k3cloud_webapi_sdk.core import webapi_client
from k3cloud_webapi_sdk.main import K3CloudApiSdk
from pddsdk.client import Client as PddClient
from top.api.base import sign as sdk_sign

from connectors.sdk import signed_headers
from connectors.sdk.gateway import sign
from connectors.sdk.http import RESIGN
from connectors.sdk.signed_headers import KingdeeSignedHeaders, kingdee_headers
from sandbox.kit.kingdee_headers import SignatureRejected, verify
from sandbox.kit.sorted_params import expected_signature

ACCT, USER = "66a1b2c3d4e5f6", "channelhub_api"
APP_ID, APP_SECRET = "300001_0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"


def test_the_sorted_params_sign_matches_taobaos_published_example_and_the_rfc_hmac_vectors() -> None:
    """TOP's signature guide (open.taobao.com docId=101617): these parameters with secret ``helloworld``
    sign (md5) to 66987CB115214E59E6EC978214934FB8. HMAC-MD5 and HMAC-SHA256 over ``Hi`` + `` There``
    give RFC 2202's and RFC 4231's first test vectors. The sandbox's verifier and the official SDK agree."""
    params = {"method": "taobao.item.seller.get", "app_key": "12345678", "session": "test", "format": "json",
              "timestamp": "2016-01-01 12:00:00", "v": "2.0", "sign_method": "md5",
              "fields": "num_iid,title,nick,price,num", "num_iid": "11223344"}
    published = "66987CB115214E59E6EC978214934FB8"
    assert sign(params, "helloworld") == expected_signature(params, "helloworld", "md5") == published
    assert sdk_sign("helloworld", params) == published
    hi = {"Hi": " There"}
    assert sign(hi, "\x0b" * 16, "hmac") == expected_signature(hi, "\x0b" * 16, "hmac") == (
        "9294727A3638BB1C13F48EF8158BFC9D")
    assert sign(hi, "\x0b" * 20, "hmac-sha256") == expected_signature(hi, "\x0b" * 20, "hmac-sha256") == (
        "B0344C61D8DB38535CA8AFCEAF0BF12B881DC200C9833DA726E9376C2E32CFF7")


def test_the_pinduoduo_sign_equals_a_public_clients_and_the_sandboxs_on_a_seller_call() -> None:
    """No published Pinduoduo example with its secret and signature was found, so the golden vector is a
    public client's own signer (``pddsdk`` ``Client._create_sign``, written independently) on a seller call
    with UNIX-second timestamp; the sandbox's verifier agrees, and a changed parameter changes the sign."""
    params = {"type": "pdd.order.number.list.increment.get", "client_id": "8d2f6c0a9b1e4f37a5c6d7e8f9012345",
              "access_token": "a1b2c3d4e5f60718293a4b5c6d7e8f90", "timestamp": "1764400000", "data_type": "JSON",
              "version": "V1", "start_updated_at": "1764396400", "end_updated_at": "1764398200",
              "is_lucky_flag": "0", "order_status": "5", "refund_status": "5", "page": "1", "page_size": "100"}
    secret = "5f0e1d2c3b4a59687766554433221100ffeeddcc"
    theirs = PddClient(params["client_id"], secret)._create_sign(params)
    assert sign(params, secret) == expected_signature(params, secret, "md5") == theirs
    assert len(theirs) == 32 and theirs == theirs.upper()
    assert sign({**params, "page": "2"}, secret) != theirs


def test_the_jd_sign_over_packed_parameters_equals_jds_official_sdks_and_the_sandboxs() -> None:
    """JOS signs the system parameters and the one JSON parameter holding the business ones; no published
    vector with its secret was found, so JD's own SDK (``jd-sdk``) is the reference."""
    params = {"method": "jingdong.pop.order.search", "app_key": "7A3B9C1D2E4F", "access_token": "jd-token-1",
              "v": "2.0", "format": "json", "timestamp": "2026-05-01 10:00:00",
              "360buy_param_json": '{"end_date":"2026-05-02 00:00:00","page":"1","start_date":"2026-05-01 00:00:00"}'}
    secret = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    assert sign(params, secret, "md5") == jd_sdk_sign(secret, params) == expected_signature(params, secret, "md5")


def test_kingdee_signed_headers_equal_the_official_sdks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kingdee publishes no signature example, so the golden vector is the official SDK's own signer
    (kingdee-cdp-webapi-sdk ``WebApiClient.BuildHeader``, an independent implementation) on the same inputs:
    the app id of the SDK's published sample, a fixed clock."""
    sample_app_id, url = "204399_72epSbtEQMC92Vwt2d3LRa9LRqSc1tqJ", "http://erp.example.com/k3cloud/"
    monkeypatch.setattr(webapi_client.time, "time", lambda: 1767225600.25)
    sdk = K3CloudApiSdk(url)
    sdk.InitConfig("5db25ac8d2b819", "webapi", sample_app_id, "fb7d46647ac346dbb5fcd45b65512a45", url, org_num=3)
    path = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery.common.kdsvc"
    theirs = {k: v for k, v in sdk.BuildHeader(f"http://erp.example.com{path}").items()
              if k.lower().startswith(("x-api", "x-kd"))}
    ours = kingdee_headers(path, acct_id="5db25ac8d2b819", user="webapi", app_id=sample_app_id,
                           app_secret="fb7d46647ac346dbb5fcd45b65512a45", org_num=3, timestamp=1767225600)
    assert ours == theirs
    assert ours["X-Api-ClientID"] == "204399" and ours["x-api-nonce"] == ours["x-api-timestamp"] == "1767225600"


def test_a_kingdee_resend_is_signed_at_the_time_of_the_resend_and_the_sandbox_verifies_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    auth = KingdeeSignedHeaders(acct_id=ACCT, user=USER, app_id=APP_ID, app_secret=APP_SECRET)
    path = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery.common.kdsvc"
    request = requests.Request("POST", f"http://127.0.0.1:1{path}", json={"data": {}}).prepare()
    monkeypatch.setattr(signed_headers.time, "time", lambda: 1_767_225_600.0)
    auth(request)
    monkeypatch.setattr(signed_headers.time, "time", lambda: 1_767_225_630.0)
    getattr(request, RESIGN)(request)
    assert request.headers["x-api-timestamp"] == request.headers["x-api-nonce"] == "1767225630"
    assert verify(request.headers, path, {APP_ID: APP_SECRET}, now=1_767_225_631).user == USER
    with pytest.raises(SignatureRejected, match="X-Kd-Signature"):
        verify(request.headers, path, {APP_ID: "another secret"}, now=1_767_225_631)
