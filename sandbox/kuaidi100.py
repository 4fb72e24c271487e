"""Kuaidi100 (快递100) emulator: the real-time query ``POST /poll/query.do``, answering for every parcel of
the World (``sandbox.world.shipments``) by company code and waybill, as its carrier's scans stand when
the World's clock reads ``world.now``.

Written from Kuaidi100's documents and official demos (../shared/reference/commerce_apis.md, section 9c),
never from a client:

* a form (``application/x-www-form-urlencoded``) of ``customer``, ``sign`` and ``param`` (a JSON string
  of ``com``, ``num``, ``phone``, ``resultv2``, ``show``, ``order``); the signature is checked here
  from the rule, ``UPPER(MD5(param + key + customer))`` over the exact ``param`` text received;
* an SF Express (``shunfeng``) waybill is answered only with the receiver's phone (the whole number or
  its last four digits, as the demos say), checked against the order's customer;
* the answer ``{"message": "ok", "nu", "ischeck", "condition", "com", "status": "200", "state",
  "data": [{"time", "ftime", "context", "location", ...}]}``, newest scan first unless ``order`` is
  ``asc``; times in Beijing wall time without a zone; with ``resultv2`` 1 or more each scan carries
  ``status`` (the state's name), ``statusCode``, ``areaCode`` and ``areaName``;
* states from the World's state machine: the label is no scan (a parcel not picked up yet is
  "查询无结果"), the first carrier scan is 1 揽收, then 0 在途, 5 派件, 3 签收, 2 疑难 (a failed
  delivery) and 6 退回 (returned); the context is Chinese text naming the scan's city;
* refusals in HTTP 200, ``{"result": false, "returnCode", "message"}``. Kuaidi100 publishes no code
  table in our sources; the codes are the ones its clients handle (400 an unreadable request or a
  customer not authorised, 408 a phone the carrier refused, 500 查询无结果, 501 server error, 502 busy,
  503 a bad signature, 601 a key expired or its package used up) and the messages ours. Its rate
  ("do not query at high frequency") is not published: ``rate_limit`` queries a second answer 502 beyond
  it, and ``daily_quota`` queries a Beijing day answer 601 beyond it (the package bought).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import Bucket, HttpSandbox, json_response
from .launch import Launcher, Running, local_port
from .world import Shipment, TrackingEvent, World
from .world.shipments import CN_MESSAGES

BEIJING = ZoneInfo("Asia/Shanghai")
RATE = 20.0  # queries a second: ours (Kuaidi100 publishes none)
# the World's carriers (the hub's codes) -> Kuaidi100's company codes
COMPANIES = {"SF": "shunfeng", "ZTO": "zhongtong", "YTO": "yuantong", "YUNDA": "yunda", "USPS": "usps", "UPS": "ups",
             "FedEx": "fedex", "DHLExpress": "dhl"}
STATE_NAMES = {"0": "在途", "1": "揽收", "2": "疑难", "3": "签收", "4": "退签", "5": "派件", "6": "退回", "7": "转单"}
STATES = {"in_transit": "0", "out_for_delivery": "5", "delivered": "3", "failure": "2", "return_to_sender": "6"}
PICKED_UP = "快递员已揽收"
REFUSALS = {"400": "提交的数据不完整，或者贵公司没授权", "408": "快递公司参数异常：验证码错误",
            "500": "查询无结果，请隔段时间再查", "501": "服务器错误", "502": "服务器繁忙，请稍后再试",
            "503": "验证签名失败", "601": "POLL:KEY已过期或余额不足"}


def refused(code: str) -> Response:
    return json_response({"result": False, "returnCode": code, "message": REFUSALS[code]})


def sign(param: str, key: str, customer: str) -> str:
    return hashlib.md5((param + key + customer).encode("utf-8")).hexdigest().upper()


def beijing(when: datetime) -> str:
    return when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


class Kuaidi100Sandbox(HttpSandbox):
    name = "kuaidi100"

    def __init__(self, world: World, customer: str, key: str, *, rate_limit: float | None = RATE,
                 daily_quota: int | None = None) -> None:
        super().__init__(world)
        self.customer, self.key = customer, key
        self.bucket = Bucket(rate_limit, rate_limit) if rate_limit else None
        self.daily_quota = daily_quota
        self.used: dict[date, int] = {}  # queries answered per Beijing day (of the real clock: the package's)
        self.log: list[dict[str, Any]] = []  # the param of every query signed right, in arrival order
        self._parcels: dict[tuple[str, str], Shipment] = {}
        self.routes = Map([Rule("/poll/query.do", endpoint="query", methods=["POST"])])

    # -- platform specifics ---------------------------------------------------------------------------
    def rate_limited(self, request: Request) -> Response:
        return refused("502")

    def server_error(self, request: Request) -> Response:
        return refused("501")

    def authenticate(self, request: Request) -> Response | None:
        form = request.form
        if form.get("customer") != self.customer:
            return refused("400")
        if not form.get("param") or form.get("sign") != sign(form["param"], self.key, self.customer):
            return refused("503")
        return None

    def before_request(self, request: Request) -> Response | None:
        if self.bucket is not None and not self.bucket.take():
            self.stats.faults_served["throttled"] += 1
            return self.rate_limited(request)
        return None

    # -- the query ------------------------------------------------------------------------------------
    def query(self, request: Request) -> Response:
        try:
            param = json.loads(request.form["param"])
        except ValueError:
            return refused("400")
        if not isinstance(param, dict) or not isinstance(param.get("com"), str) or not isinstance(param.get("num"), str) \
                or not 0 < len(param["num"]) <= 32:
            return refused("400")
        today = datetime.now(BEIJING).date()
        with self._lock:
            if self.daily_quota is not None and self.used.get(today, 0) >= self.daily_quota:
                return refused("601")
            self.used[today] = self.used.get(today, 0) + 1
            self.log.append(param)
        parcel = self.parcel(param["com"], param["num"])
        if parcel is not None and param["com"] == "shunfeng" and not self.phone_matches(parcel, param.get("phone")):
            return refused("408")
        self.count_records("waybills", 1)
        scans = self.scans(parcel) if parcel is not None else []
        if not scans:
            return refused("500")
        rich = str(param.get("resultv2", "0")) not in ("", "0")
        data = [self.scan(event, state, rich) for event, state in scans]
        state = scans[-1][1]
        return json_response({"message": "ok", "nu": param["num"], "ischeck": "1" if state == "3" else "0",
                              "condition": "F00", "com": param["com"], "status": "200", "state": state,
                              "data": data if param.get("order") == "asc" else data[::-1]})

    def parcel(self, com: str, num: str) -> Shipment | None:
        """The World's parcel of that company and waybill (the World ships more as tests go on)."""
        with self._lock:
            if len(self._parcels) != len(self.world.shipments):
                self._parcels = {(COMPANIES[shipment.carrier], shipment.tracking_code): shipment
                                 for shipment in self.world.shipments}
            return self._parcels.get((com, num))

    @staticmethod
    def phone_matches(parcel: Shipment, phone: Any) -> bool:
        """The whole number or its last four digits, against the receiver's."""
        given = "".join(ch for ch in str(phone or "") if ch.isdigit())
        return len(given) >= 4 and "".join(ch for ch in parcel.order.customer.phone if ch.isdigit()).endswith(given[-4:])

    def scans(self, parcel: Shipment) -> list[tuple[TrackingEvent, str]]:
        """The carrier's scans by now, oldest first, each with its state: the label bought is none."""
        events = [event for event in parcel.events_until(self.world.now) if event.status != "pre_transit"]
        return [(event, "1" if index == 0 and event.status == "in_transit" else STATES[event.status])
                for index, event in enumerate(events)]

    @staticmethod
    def scan(event: TrackingEvent, state: str, rich: bool) -> dict[str, Any]:
        city, province, country, postcode = event.city
        text = PICKED_UP if state == "1" else CN_MESSAGES[event.status]
        scan = {"time": beijing(event.at), "ftime": beijing(event.at), "context": f"【{city}】{text}", "location": city}
        if rich:
            scan |= {"status": STATE_NAMES[state], "statusCode": state, "areaCode": f"{country}{postcode}",
                     "areaName": f"{province},{city}"}
        return scan


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = Kuaidi100Sandbox(world, credentials["customer"], credentials["key"])
    return Running(account, "kuaidi100", sandbox.serve(port=local_port(account, settings)), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start)
