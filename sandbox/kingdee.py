"""Kingdee K3Cloud (金蝶云星空) WebAPI emulator for one data centre of the World.

Faithful to the documented behaviour (../shared/reference/erp_systems.md, section 2):

* ``POST /k3cloud/<Service>.common.kdsvc`` with a JSON body (the ``/K3Cloud`` prefix in any case, as IIS);
* auth: signed ``X-Api-*``/``X-Kd-*`` headers of a registered app (verified by ``kit.kingdee_headers``),
  or the cookie session of ``AuthService.ValidateUser`` (``parameters: [acct, user, password, lcid]`` or
  named keys) or ``LoginByAppSecret``: cookies ``kdservice-sessionid`` and ``ASP.NET_SessionId``, the
  session id also accepted as header ``kdservice-sessionid`` or ``SID``. A refused login answers 200 with
  ``LoginResultType`` 0; an unknown or expired session (``sessions.expire()``) and a bad signature
  answer 200 with ``MsgCode`` 1 "会话信息已丢失，请重新登录"; a signature for another data centre a 403;
* ``DynamicFormService.ExecuteBillQuery`` (rows as arrays in ``FieldKeys`` order) and ``BillQuery``
  (objects), the query as ``{"data": {...}}``, ``data`` as a JSON string (the SDK's callers often pass
  one) or the old ``parameters: [query]`` form; ``FilterString`` with and/or, parentheses and
  = <> != > >= < <=, dates compared in the server's zone (Asia/Shanghai, no offset); ``OrderString``;
  ``StartRow`` (0-based), ``Limit`` (the server's default cap 2,000, also for 0) and ``TopRowCount``
  (a cap on the whole result). Rows are per line when ``FieldKeys`` names an entry field, else per bill;
* forms BD_MATERIAL (the World's SKUs, FNumber = merchant SKU), STK_Inventory (the World's stock per
  SKU and warehouse, FID a GUID), SAL_SaleOrder (every World order, the ERP being the order book as in
  the U8 sandbox; entry key ``FSaleOrderEntry_FEntryID``) and BD_Customer;
* errors inside HTTP 200 as ``[[{"Result": {"ResponseStatus": {"IsSuccess": false, "Errors": [...],
  "MsgCode": n}}}]]``: 4 unknown form, 9 unknown field, 8 missing parameter.
Kingdee documents no rate limit; the fault switch answers 429 with ``Retry-After``, as a gateway would.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import HttpSandbox, json_response
from .kit.kingdee_headers import SignatureRejected, verify
from .kit.query import QueryError, Row, Table, fields
from .kit.sessions import Sessions
from .launch import Launcher, Running, local_port
from .world import WAREHOUSES, World

SHANGHAI = ZoneInfo("Asia/Shanghai")
SERVICES = "Kingdee.BOS.WebApi.ServicesStub."
MAX_LIMIT = 2_000
MATERIAL_ID, CUSTOMER_ID, ORDER_ID = 100_001, 200_001, 300_001  # FIDs: Kingdee's ids start at 100001
SESSION_LOST = "会话信息已丢失，请重新登录"


def failure(msg_code: int, message: str, field: str | None = None) -> Response:
    status = {"ErrorCode": 500, "IsSuccess": False, "MsgCode": msg_code, "SuccessEntitys": [],
              "SuccessMessages": [], "Errors": [{"FieldName": field, "Message": message, "DIndex": 0}]}
    return json_response([[{"Result": {"ResponseStatus": status}}]])


class KingdeeSandbox(HttpSandbox):
    name = "kingdee"

    def __init__(self, world: World, acct_id: str, user: str, *, app_id: str = "", app_secret: str = "",
                 password: str = "") -> None:
        super().__init__(world)
        self.acct_id, self.user, self.password = acct_id, user, password
        self.apps = {app_id: app_secret} if app_id else {}
        self.sessions = Sessions()
        self.queries: list[dict[str, Any]] = []  # every query's data, in arrival order
        self.retry_after = 1.0
        self.routes = Map([Rule("/<prefix>/<service>", endpoint="service", methods=["POST"])])
        stock_ids = {(r.sku.code, r.warehouse): str(uuid.uuid5(uuid.NAMESPACE_OID, f"{r.sku.code}/{r.warehouse}"))
                     for r in world.stock}
        warehouses = {code: name_zh for code, _, name_zh in WAREHOUSES}
        entries = fields(FSaleOrderEntry_FEntryID=lambda _, line: line.id, FSeq=lambda _, line: line.id % 10 + 1,
                         FQty=lambda _, line: Decimal(line.quantity), FPrice=lambda _, line: line.unit_price,
                         FAmount=lambda _, line: line.amount, **{"FMaterialId.FNumber": lambda _, line: line.sku.code})
        self.forms = {
            "BD_MATERIAL": Table(lambda lines: [(s, None) for s in world.skus], fields(
                FMATERIALID=lambda s, _: MATERIAL_ID + s.index, FNumber=lambda s, _: s.code,
                FName=lambda s, _: f"{s.product_zh} {s.variant}", FSpecification=lambda s, _: s.variant,
                FForbidStatus=lambda s, _: "A", FDocumentStatus=lambda s, _: "C", FCreateDate=lambda s, _: s.modified_at,
                FModifyDate=lambda s, _: s.modified_at, **{"FBaseUnitId.FName": lambda s, _: "件"})),
            "STK_Inventory": Table(lambda lines: [(r, None) for r in world.stock], fields(
                FID=lambda r, _: stock_ids[r.sku.code, r.warehouse], FBaseQty=lambda r, _: Decimal(r.quantity),
                FBaseAVBQty=lambda r, _: Decimal(r.quantity), **{
                    "FMaterialId.FNumber": lambda r, _: r.sku.code, "FMaterialId.FName": lambda r, _: r.sku.product_zh,
                    "FStockId.FNumber": lambda r, _: r.warehouse, "FStockId.FName": lambda r, _: warehouses[r.warehouse],
                    "FStockOrgId.FNumber": lambda r, _: "100"})),
            "SAL_SaleOrder": Table(self._order_rows, {**entries, **fields(
                FID=lambda o, _: ORDER_ID + o.id % 10**9, FBillNo=lambda o, _: f"XSDD{o.id % 10**9:06d}",
                FDate=lambda o, _: datetime.combine(o.created_at.astimezone(SHANGHAI).date(), datetime.min.time()),
                FCreateDate=lambda o, _: o.created_at, FModifyDate=lambda o, _: o.updated_at,
                FDocumentStatus=lambda o, _: "C", FCancelStatus=lambda o, _: "B" if o.cancelled_at else "A",
                FBillAllAmount=lambda o, _: o.total, FBillTaxAmount=lambda o, _: o.tax,
                FBillAmount=lambda o, _: o.total - o.tax, **{
                    "FCustId.FNumber": lambda o, _: f"CUST{o.customer.id}", "FSaleOrgId.FNumber": lambda o, _: "100",
                    "FCustId.FName": lambda o, _: f"{o.customer.first_name} {o.customer.last_name}",
                    "FSettleCurrId.FCode": lambda o, _: o.currency})}, frozenset(entries)),
            "BD_Customer": Table(lambda lines: [(c, None) for c in world.customers], fields(
                FCUSTID=lambda c, _: CUSTOMER_ID + c.id % 100_000, FNumber=lambda c, _: f"CUST{c.id}",
                FName=lambda c, _: f"{c.first_name} {c.last_name}", FTEL=lambda c, _: c.in_erp[1],
                FDocumentStatus=lambda c, _: "C", FForbidStatus=lambda c, _: "A",
                FCreateDate=lambda c, _: c.created_at, FModifyDate=lambda c, _: c.updated_at)),
        }

    def _order_rows(self, lines: bool) -> list[Row]:
        orders = self.world.orders
        return [(o, line) for o in orders for line in o.lines] if lines else [(o, None) for o in orders]

    # -- platform specifics ---------------------------------------------------------------------------
    def rate_limited(self, request: Request) -> Response:
        return Response("Too Many Requests", 429, {"Retry-After": f"{self.retry_after:g}"})

    def server_error(self, request: Request) -> Response:
        return json_response({"Result": {"ResponseStatus": {"ErrorCode": 500, "IsSuccess": False, "MsgCode": 0,
                                                            "Errors": [{"Message": "服务器内部错误"}]}}}, 500)

    def fault_scope(self, request: Request) -> str:
        """The path plus the form queried, so faults can target one form (every query shares one path)."""
        return f"{request.path}#{self._query(request).get('formid', '')}"

    def authenticate(self, request: Request) -> Response | None:
        if "AuthService." in request.path:
            return None
        if "X-Kd-Appkey" in request.headers:
            try:
                caller = verify(request.headers, request.path, self.apps)
            except SignatureRejected:
                return failure(1, SESSION_LOST)
            return None if caller.acct_id == self.acct_id else Response("Fail to verify thirty passport", 403)
        sid = (request.cookies.get("kdservice-sessionid") or request.headers.get("kdservice-sessionid")
               or request.headers.get("SID"))
        return None if self.sessions.valid(sid) else failure(1, SESSION_LOST)

    # -- endpoints --------------------------------------------------------------------------------------
    def service(self, request: Request, prefix: str, service: str) -> Response:
        name = service.removesuffix(".common.kdsvc").removeprefix(SERVICES)
        handler = {"AuthService.ValidateUser": lambda: self.login(request, by_secret=False),
                   "AuthService.LoginByAppSecret": lambda: self.login(request, by_secret=True),
                   "DynamicFormService.ExecuteBillQuery": lambda: self.query(request, as_objects=False),
                   "DynamicFormService.BillQuery": lambda: self.query(request, as_objects=True)}.get(name)
        if prefix.lower() != "k3cloud" or not service.endswith(".common.kdsvc") or handler is None:
            return self.not_found(request)
        return handler()

    def login(self, request: Request, by_secret: bool) -> Response:
        body = {str(key).lower(): value for key, value in (request.get_json(silent=True) or {}).items()}
        names = ("acctid", "username", *(("appid", "appsecret") if by_secret else ("password",)))
        given = [str(v) for v in (body.get("parameters") or [body.get(name) for name in names])[:len(names)]]
        secret = next(iter(self.apps.items()), None) if by_secret else (self.password,) if self.password else None
        if secret is None or given != [self.acct_id, self.user, *secret]:
            return json_response({"Message": "用户名或密码错误！", "MessageCode": "CheckPasswordPolicy",
                                  "LoginResultType": 0, "Context": None, "KDSVCSessionId": None})
        sid = self.sessions.open()
        response = json_response({"Message": None, "MessageCode": "CheckPasswordPolicy", "LoginResultType": 1,
                                  "KDSVCSessionId": sid, "IsSuccessByAPI": True, "Lcid": 2052,
                                  "Context": {"SessionId": sid, "UserName": self.user, "DataCenterName": self.acct_id}})
        response.set_cookie("kdservice-sessionid", sid, path="/")
        response.set_cookie("ASP.NET_SessionId", secrets.token_hex(12), path="/", httponly=True)
        return response

    @staticmethod
    def _query(request: Request) -> dict[str, Any]:
        """The query of a body in any of the forms clients send, its keys lower-cased."""
        body = request.get_json(silent=True)
        data = body.get("data", (body.get("parameters") or [body])[0]) if isinstance(body, dict) else None
        try:
            data = json.loads(data) if isinstance(data, str) else data
        except ValueError:
            data = None
        return {str(key).lower(): value for key, value in data.items()} if isinstance(data, dict) else {}

    def query(self, request: Request, as_objects: bool) -> Response:
        query = self._query(request)
        form = self.forms.get(str(query.get("formid", "")))
        if form is None:
            return failure(4, f"业务对象“{query.get('formid')}”不存在" if query.get("formid") else "FormId 参数为空")
        keys = [key.strip() for key in str(query.get("fieldkeys", "")).split(",") if key.strip()]
        unknown = form.unknown(keys)
        if not keys or unknown:
            return failure(9, f"元数据中标识为{unknown}的字段不存在", unknown) if unknown else failure(8, "FieldKeys 参数为空")
        try:
            rows = form.select(keys, str(query.get("filterstring") or ""), str(query.get("orderstring") or ""), SHANGHAI)
            start, limit, top = (int(query.get(k) or 0) for k in ("startrow", "limit", "toprowcount"))
        except (QueryError, ValueError, IndexError) as exc:
            return failure(9 if isinstance(exc, QueryError) and exc.field else 8, str(exc),
                           getattr(exc, "field", None))
        rows = rows[:top] if top > 0 else rows
        page = rows[start:start + min(limit or MAX_LIMIT, MAX_LIMIT)]
        with self._lock:
            self.queries.append(query)
        self.count_records(str(query["formid"]) + (".entries" if form.per_line(keys) else ""), len(page))
        rendered = [[_render(form.value(key, row, SHANGHAI)) for key in keys] for row in page]
        return json_response([dict(zip(keys, row, strict=True)) for row in rendered] if as_objects else rendered)


def _render(value: Any) -> Any:
    """.NET's JSON: numbers for decimals, ISO local times without an offset."""
    if isinstance(value, Decimal):
        return float(value)
    return value.isoformat() if isinstance(value, datetime | date) else value


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = KingdeeSandbox(world, str(settings.get("acct_id", "")), str(settings.get("user", "")), **credentials)
    port = local_port(account, {"base_url": settings.get("server_url", "")})
    return Running(account, "kingdee", sandbox.serve(port=port), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start, {"app_id": "300001_"})
