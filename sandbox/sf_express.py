"""SF Express (顺丰, 丰桥 open platform) emulator for the route query ``EXP_RECE_SEARCH_ROUTES``, rendering
the routes of the World's SF parcels (in the shipped World, the waybills the CNY store records:
``sandbox.world.shipments``) as SF shows them when the World's clock reads ``world.now``.

Written from SF's documents (../shared/reference/commerce_apis.md, section 9d; open.sf-express.com's
数字签名 page and its 公共返回码 table), not from a client, and not from the connector:

* ``POST /std/service``, a UTF-8 form: ``partnerID``, ``requestID``, ``serviceCode``, ``timestamp``
  (milliseconds), ``msgDigest`` and ``msgData`` (JSON text). The msgDigest is checked here with its own
  implementation of ``Base64(MD5(URLEncoder.encode(msgData + timestamp + checkWord, "UTF-8")))``;
* every answer is HTTP 200 ``{"apiErrorMsg", "apiResponseID", "apiResultCode", "apiResultData"}``: A1001
  a required parameter missing (or msgData not JSON), A1004 a partner id without the service, A1005 flow
  control (the integration environment's 30 calls a second per service), A1006 an invalid msgDigest,
  A1099 a system exception; A1000 with ``apiResultData`` a JSON *string*, ``{"success", "errorCode",
  "errorMsg", "msgData"}``, the business errors 8013 (no waybill given) and 8003 (more than 10);
* ``msgData``: ``trackingType`` 1 (SF waybills; 2, customer order ids, finds none here),
  ``trackingNumber`` (a list, or comma-joined text), ``language``, ``methodType``, ``checkPhoneNo``
  (accepted: the merchant's own waybills need no phone check). Every waybill asked gets a
  ``routeResps`` entry ``{"mailNo", "routes": [...]}``, empty for one SF does not know or has no scan of
  yet; each route ``{"acceptTime" (Beijing time, no zone), "acceptAddress", "remark", "opCode"}``, oldest
  first.

SF publishes no complete opCode table (its documents say to ask SF's business staff); the World's scans
are shown with the codes public integrations agree on: 50 collected (收件), 31 arrived at a transit
centre, 44 out for delivery (派送中), 80 delivered (签收), 70 delivery failed, 99 returned (退回). The
World's first scan (the label: the merchant's order, waiting for the courier) is no SF route: routes
begin when the courier collects the parcel.

Fault switches: the kit's ``faults`` (``rate_limit`` answers A1005, ``server_error`` A1099, ``malformed``
…), ``bad_digest`` (the next N calls refused A1006 as if signed wrongly), ``calls`` (flow control).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import Bucket, HttpSandbox, json_response
from .launch import Launcher, Running, local_port
from .world import Shipment, TrackingEvent, World

PATH = "/std/service"
SERVICE = "EXP_RECE_SEARCH_ROUTES"
BEIJING = ZoneInfo("Asia/Shanghai")
MAX_NUMBERS = 10
CALLS_PER_SECOND = 30.0  # 丰桥's integration environment: 30 calls a second per service and customer code
REQUIRED = ("partnerID", "requestID", "serviceCode", "timestamp", "msgDigest", "msgData")
GATEWAY_ERRORS = {"A1001": "必填参数不能为空", "A1004": "无对应服务权限", "A1005": "流量受管控",
                  "A1006": "数字签名无效", "A1099": "系统异常"}
# Java URLEncoder keeps these bytes as they are; a space is "+", every other byte "%XX"
KEPT = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*_")


def url_encoded(text: str) -> str:
    """``URLEncoder.encode(text, "UTF-8")``, byte by byte."""
    return "".join(chr(byte) if byte in KEPT else "+" if byte == 0x20 else f"%{byte:02X}"
                   for byte in text.encode("utf-8"))


def expected_digest(msg_data: str, timestamp: str, check_word: str) -> str:
    return base64.b64encode(hashlib.md5(url_encoded(msg_data + timestamp + check_word).encode("ascii")).digest()).decode()


def route_of(event: TrackingEvent, collected: bool) -> dict[str, str]:
    """One World scan as SF's route: the opCode and a remark in SF's words, the city as acceptAddress."""
    city = event.city[0]
    code, remark = {
        "in_transit": ("31", f"快件到达 【{city}中转场】") if collected else ("50", "顺丰速运 已收取快件"),
        "out_for_delivery": ("44", "快件交给快递员，正在派送途中（联系电话：95338）"),
        "delivered": ("80", "已签收，感谢使用顺丰，期待再次为您服务"),
        "failure": ("70", "快件派送不成功，收件人电话无人接听，待再次派送"),
        "return_to_sender": ("99", "快件已退回寄件人"),
    }[event.status]
    return {"acceptTime": event.at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"), "acceptAddress": city,
            "remark": remark, "opCode": code}


class SfExpressSandbox(HttpSandbox):
    name = "sf_express"

    def __init__(self, world: World, partner_id: str, check_word: str, *,
                 calls_per_second: float | None = CALLS_PER_SECOND) -> None:
        super().__init__(world)
        self.partner_id, self.check_word = partner_id, check_word
        self.calls = Bucket(calls_per_second, calls_per_second) if calls_per_second else None
        self.bad_digest = 0  # the next N calls are refused A1006
        self.log: list[dict[str, Any]] = []  # msgData of each authenticated call, in arrival order
        self._switch = threading.Lock()
        self.routes = Map([Rule(PATH, endpoint="service", methods=["POST"])])

    # -- what the World holds ---------------------------------------------------------------------------
    def waybills(self) -> dict[str, Shipment]:
        """Every SF parcel the World has shipped by now, by waybill, whoever knows it (SF carries them all)."""
        return {shipment.tracking_code: shipment for shipment in self.world.shipments
                if shipment.carrier == "SF" and shipment.created_at <= self.world.now}

    def routes_of(self, shipment: Shipment) -> list[dict[str, str]]:
        """The scans by now, oldest first, from the courier's collection on."""
        scans = [event for event in shipment.events_until(self.world.now) if event.status != "pre_transit"]
        return [route_of(event, collected=index > 0) for index, event in enumerate(scans)]

    def asked(self) -> list[list[str]]:
        """The waybills of each route query, in arrival order."""
        return [list(call.get("trackingNumber") or []) for call in self.log]

    # -- answers ----------------------------------------------------------------------------------------
    @staticmethod
    def envelope(code: str, message: str = "", data: dict[str, Any] | None = None) -> Response:
        return json_response({"apiErrorMsg": message, "apiResponseID": uuid.uuid4().hex.upper(),
                              "apiResultCode": code,
                              "apiResultData": None if data is None else json.dumps(data, ensure_ascii=False)})

    def refused(self, code: str) -> Response:
        return self.envelope(code, GATEWAY_ERRORS[code])

    @staticmethod
    def business(code: str, message: str) -> dict[str, Any]:
        return {"success": False, "errorCode": code, "errorMsg": message, "msgData": None}

    def rate_limited(self, request: Request) -> Response:
        return self.refused("A1005")

    def server_error(self, request: Request) -> Response:
        return self.refused("A1099")

    def not_found(self, request: Request) -> Response:
        return Response("Not Found", 404)

    def authenticate(self, request: Request) -> Response | None:
        form = request.form
        if any(not form.get(name) for name in REQUIRED) or not form["timestamp"].isdigit():
            return self.refused("A1001")
        if form["partnerID"] != self.partner_id or form["serviceCode"] != SERVICE:
            return self.refused("A1004")
        with self._switch:
            forced, self.bad_digest = self.bad_digest > 0, max(0, self.bad_digest - 1)
        if forced:
            self.stats.faults_served["bad_digest"] += 1
        if forced or form["msgDigest"] != expected_digest(form["msgData"], form["timestamp"], self.check_word):
            return self.refused("A1006")
        return None

    def before_request(self, request: Request) -> Response | None:
        if self.calls is None or self.calls.take():
            return None
        self.stats.faults_served["throttled"] += 1
        return self.rate_limited(request)

    # -- the service -----------------------------------------------------------------------------------
    def service(self, request: Request) -> Response:
        try:
            query = json.loads(request.form["msgData"])
        except ValueError:
            return self.refused("A1001")
        if not isinstance(query, dict):
            return self.refused("A1001")
        numbers = query.get("trackingNumber") or []
        if isinstance(numbers, str):
            numbers = [number for number in numbers.split(",") if number]
        numbers = [str(number) for number in numbers]
        with self._lock:
            self.log.append({**query, "trackingNumber": numbers})
        if not numbers:
            return self.envelope("A1000", data=self.business("8013", "未传入查询单号"))
        if len(numbers) > MAX_NUMBERS:
            return self.envelope("A1000", data=self.business("8003", "查询单号超过最大限制"))
        known = self.waybills() if str(query.get("trackingType", "1")) == "1" else {}
        answers = [{"mailNo": number, "routes": self.routes_of(known[number]) if number in known else []}
                   for number in numbers]
        self.count_records("waybills", len(answers))
        return self.envelope("A1000", data={"success": True, "errorCode": "S0000", "errorMsg": None,
                                            "msgData": {"routeResps": answers}})


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = SfExpressSandbox(world, credentials["partner_id"], credentials["check_word"])
    return Running(account, "sf_express", sandbox.serve(port=local_port(account, settings)), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start, {"partner_id": "SFPARTNER"})
