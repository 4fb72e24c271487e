"""Kingdee K3Cloud (金蝶云星空) WebAPI emulator for one data centre of the World.

Faithful to the documented behaviour (../shared/reference/erp_systems.md, section 2):

* ``POST /k3cloud/<Service>.common.kdsvc`` with a JSON body (the ``/K3Cloud`` prefix in any case, as IIS);
* auth: signed ``X-Api-*``/``X-Kd-*`` headers of a registered app (verified by ``kit.kingdee_headers``),
  or the cookie session of ``AuthService.ValidateUser`` (``parameters: [acct, user, password, lcid]`` or
  named keys) or ``LoginByAppSecret``: cookies ``kdservice-sessionid`` and ``ASP.NET_SessionId``, the
  session id also accepted as header ``kdservice-sessionid`` or ``SID``. A refused login answers 200 with
  ``LoginResultType`` 0; an unknown or expired session (:meth:`expire_sessions`) and a bad signature
  answer 200 with ``MsgCode`` 1 "会话信息已丢失，请重新登录"; a signature for another data centre a 403;
* ``DynamicFormService.ExecuteBillQuery`` (rows as arrays in ``FieldKeys`` order) and ``BillQuery``
  (objects), the query as ``{"data": {...}}``, ``data`` as a JSON string (the SDK's callers often pass
  one) or the old ``parameters: [query]`` form; ``FilterString`` with and/or, parentheses and
  = <> != > >= < <=, dates compared in the server's zone (Asia/Shanghai, no offset); ``OrderString``;
  ``StartRow`` (0-based), ``Limit`` (at most 2,000, the server default; 0 = all) and ``TopRowCount``
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
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import HttpSandbox, json_response
from .kit.kingdee_headers import SignatureRejected, verify
from .launch import Launcher, Running, local_port
from .world import WAREHOUSES, World

SHANGHAI = ZoneInfo("Asia/Shanghai")
SERVICES = "Kingdee.BOS.WebApi.ServicesStub."
MAX_LIMIT = 2_000
MATERIAL_ID, CUSTOMER_ID, ORDER_ID = 100_001, 200_001, 300_001  # FIDs: Kingdee's ids start at 100001
SESSION_LOST = "会话信息已丢失，请重新登录"
Row = tuple[Any, Any]  # (bill or base-data object, entry or None)


def failure(msg_code: int, message: str, field: str | None = None) -> Response:
    status = {"ErrorCode": 500, "IsSuccess": False, "MsgCode": msg_code, "SuccessEntitys": [],
              "SuccessMessages": [], "Errors": [{"FieldName": field, "Message": message, "DIndex": 0}]}
    return json_response([[{"Result": {"ResponseStatus": status}}]])


@dataclass(frozen=True)
class Form:
    rows: Callable[[bool], list[Row]]        # per line (True) or per bill
    fields: dict[str, tuple[bool, Callable[[Any, Any], Any]]]  # lower-case key -> (entry field?, value)


class FilterError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


TOKENS = re.compile(r"\s*(?:('(?:[^']|'')*')|(-?\d+(?:\.\d+)?)\b|(>=|<=|<>|!=|=|>|<)|([()])|([A-Za-z_][\w.]*))")
COMPARE = {"=": lambda a, b: a == b, "<>": lambda a, b: a != b, "!=": lambda a, b: a != b,
           ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}


def parse_filter(text: str, value: Callable[[str, Row], Any]) -> Callable[[Row], bool]:
    """A predicate for ``FilterString`` (a SQL WHERE subset); ``value(field, row)`` reads a field."""
    tokens, pos = [], 0
    while pos < len(text.rstrip()):
        match = TOKENS.match(text, pos)
        if match is None or match.end() == pos:
            raise FilterError(f"FilterString 语法错误: {text[pos:pos + 20]}")
        tokens.append(next((kind, tok) for kind, tok in enumerate(match.groups()) if tok is not None))
        pos = match.end()
    tokens.append((-1, ""))
    at = [0]

    def take(kind: int | None = None, word: str | None = None) -> str | None:
        got_kind, got = tokens[at[0]]
        if (kind is not None and got_kind != kind) or (word is not None and got.lower() != word):
            return None
        at[0] += 1
        return got

    def either(sub: Callable[[], Callable[[Row], bool]], word: str, join: Callable[..., bool]) -> Callable:
        parts = [sub()]
        while take(4, word):
            parts.append(sub())
        return parts[0] if len(parts) == 1 else (lambda row: join(part(row) for part in parts))

    def factor() -> Callable[[Row], bool]:
        if take(3, "("):
            inner = disjunction()
            if not take(3, ")"):
                raise FilterError("FilterString 语法错误: ) expected")
            return inner
        field, op = take(4), take(2)
        literal = tokens[at[0]][1]
        if field is None or op is None or tokens[at[0]][0] not in (0, 1):
            raise FilterError(f"FilterString 语法错误 near {literal!r}")
        at[0] += 1
        literal = literal[1:-1].replace("''", "'") if literal.startswith("'") else literal
        return lambda row: _compare(value(field, row), op, literal)

    def disjunction() -> Callable[[Row], bool]:
        return either(lambda: either(factor, "and", all), "or", any)

    predicate = disjunction() if len(tokens) > 1 else (lambda row: True)
    if tokens[at[0]][0] != -1:
        raise FilterError(f"FilterString 语法错误 near {tokens[at[0]][1]!r}")
    return predicate


def _compare(actual: Any, op: str, literal: str) -> bool:
    if actual is None:
        return False
    if isinstance(actual, datetime):
        other: Any = datetime.fromisoformat(literal.strip())
    elif isinstance(actual, int | Decimal):
        other = Decimal(literal)
    else:
        actual, other = str(actual), literal
    return COMPARE[op](actual, other)


class KingdeeSandbox(HttpSandbox):
    name = "kingdee"

    def __init__(self, world: World, acct_id: str, user: str, *, app_id: str = "", app_secret: str = "",
                 password: str = "") -> None:
        super().__init__(world)
        self.acct_id, self.user, self.password = acct_id, user, password
        self.apps = {app_id: app_secret} if app_id else {}
        self.sessions: set[str] = set()
        self.logins = 0
        self.queries: list[dict[str, Any]] = []  # every query's data, in arrival order
        self.retry_after = 1.0
        self.routes = Map([Rule("/<prefix>/<service>", endpoint="service", methods=["POST"])])
        stock_ids = {(r.sku.code, r.warehouse): str(uuid.uuid5(uuid.NAMESPACE_OID, f"{r.sku.code}/{r.warehouse}"))
                     for r in world.stock}
        warehouses = {code: name_zh for code, _, name_zh in WAREHOUSES}
        material = {"fmaterialid.fnumber": lambda r, _: r.sku.code, "fmaterialid.fname": lambda r, _: r.sku.product_zh}
        self.forms = {
            "BD_MATERIAL": Form(lambda lines: [(s, None) for s in world.skus], self._fields(
                FMATERIALID=lambda s: MATERIAL_ID + s.index, FNumber=lambda s: s.code,
                FName=lambda s: f"{s.product_zh} {s.variant}", FSpecification=lambda s: s.variant,
                **{"FBaseUnitId.FName": lambda s: "件"}, FForbidStatus=lambda s: "A", FDocumentStatus=lambda s: "C",
                FCreateDate=lambda s: s.modified_at, FModifyDate=lambda s: s.modified_at)),
            "STK_Inventory": Form(lambda lines: [(r, None) for r in world.stock], {
                "fid": (False, lambda r, _: stock_ids[r.sku.code, r.warehouse]), **{k: (False, f) for k, f in material.items()},
                "fstockid.fnumber": (False, lambda r, _: r.warehouse),
                "fstockid.fname": (False, lambda r, _: warehouses[r.warehouse]),
                "fbaseqty": (False, lambda r, _: Decimal(r.quantity)),
                "fbaseavbqty": (False, lambda r, _: Decimal(r.quantity)),
                "fstockorgid.fnumber": (False, lambda r, _: "100")}),
            "SAL_SaleOrder": Form(self._order_rows, {**self._fields(
                FID=lambda o: ORDER_ID + o.id % 1_000_000_000, FBillNo=lambda o: f"XSDD{o.id % 1_000_000_000:06d}",
                FDate=lambda o: datetime.combine(o.created_at.astimezone(SHANGHAI).date(), datetime.min.time()),
                FCreateDate=lambda o: o.created_at, FModifyDate=lambda o: o.updated_at,
                FDocumentStatus=lambda o: "C", FCancelStatus=lambda o: "B" if o.cancelled_at else "A",
                **{"FCustId.FNumber": lambda o: f"CUST{o.customer.id}",
                   "FCustId.FName": lambda o: f"{o.customer.first_name} {o.customer.last_name}",
                   "FSaleOrgId.FNumber": lambda o: "100", "FSettleCurrId.FCode": lambda o: o.currency},
                FBillAllAmount=lambda o: o.total, FBillTaxAmount=lambda o: o.tax, FBillAmount=lambda o: o.total - o.tax),
                **self._fields(entry=True, FSaleOrderEntry_FEntryID=lambda line: line.id, FSeq=lambda line: line.id % 10 + 1,
                               **{"FMaterialId.FNumber": lambda line: line.sku.code},
                               FQty=lambda line: Decimal(line.quantity), FPrice=lambda line: line.unit_price,
                               FAmount=lambda line: line.amount)}),
            "BD_Customer": Form(lambda lines: [(c, None) for c in world.customers], self._fields(
                FCUSTID=lambda c: CUSTOMER_ID + c.id % 100_000, FNumber=lambda c: f"CUST{c.id}",
                FName=lambda c: f"{c.first_name} {c.last_name}", FTEL=lambda c: c.phone,
                FDocumentStatus=lambda c: "C", FForbidStatus=lambda c: "A",
                FCreateDate=lambda c: c.created_at, FModifyDate=lambda c: c.updated_at)),
        }

    @staticmethod
    def _fields(entry: bool = False, **getters: Callable[[Any], Any]) -> dict[str, tuple[bool, Callable]]:
        if entry:
            return {key.lower(): (True, lambda _, line, get=get: get(line)) for key, get in getters.items()}
        return {key.lower(): (False, lambda bill, _, get=get: get(bill)) for key, get in getters.items()}

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

    def expire_sessions(self) -> None:
        """The server forgets every session (an IIS recycle, a timeout): the next cookie call is refused."""
        with self._lock:
            self.sessions.clear()

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
        return None if sid in self.sessions else failure(1, SESSION_LOST)

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
        sid = secrets.token_hex(16)
        with self._lock:
            self.sessions.add(sid)
            self.logins += 1
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
        unknown = next((key for key in keys if key.lower() not in form.fields), None)
        if not keys or unknown:
            return failure(9, f"元数据中标识为{unknown}的字段不存在", unknown) if unknown else failure(8, "FieldKeys 参数为空")

        def value(field: str, row: Row) -> Any:
            if field.lower() not in form.fields:
                raise FilterError(f"元数据中标识为{field}的字段不存在", field)
            got = form.fields[field.lower()][1](*row)
            return got.astimezone(SHANGHAI).replace(tzinfo=None) if isinstance(got, datetime) and got.tzinfo else got

        try:
            predicate = parse_filter(str(query.get("filterstring") or ""), value)
            lines = any(form.fields[key.lower()][0] for key in keys)
            rows = [row for row in form.rows(lines) if predicate(row)]
            for part in reversed([p.split() for p in str(query.get("orderstring") or "").split(",") if p.strip()]):
                rows.sort(key=lambda row, f=part[0]: value(f, row), reverse=part[-1].lower() == "desc")
            start, limit, top = (int(query.get(k) or 0) for k in ("startrow", "limit", "toprowcount"))
        except (FilterError, ValueError, IndexError) as exc:
            return failure(9 if isinstance(exc, FilterError) and exc.field else 8, str(exc),
                           getattr(exc, "field", None))
        rows = rows[:top] if top > 0 else rows
        page = rows[start:start + min(limit or MAX_LIMIT, MAX_LIMIT)]
        with self._lock:
            self.queries.append(query)
        self.count_records(str(query["formid"]) + (".entries" if lines else ""), len(page))
        rendered = [[_render(value(key, row)) for key in keys] for row in page]
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
