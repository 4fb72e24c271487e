"""SAP Business One Service Layer emulator for one company database of the World.

Faithful to the documented behaviour (../shared/reference/erp_systems.md, section 5):

* ``POST /b1s/v2/Login`` (and ``/b1s/v1``) with ``{"CompanyDB", "UserName", "Password"}``: the answer
  carries ``SessionId``, ``Version`` and ``SessionTimeout`` (minutes) and sets the cookies ``B1SESSION``
  and ``ROUTEID`` (the load balancer's node); every other call must send ``B1SESSION``. A refused login,
  an unknown and an expired session (``sessions.expire()``) answer 401 with the Service Layer's envelope
  ``{"error": {"code", "message": {"lang", "value"}}}``; ``POST Logout`` answers 204;
* ``GET /b1s/v2/<Entity>`` with ``$select``, ``$filter`` (comparisons ``eq ne gt ge lt le`` joined by
  ``and``/``or``, parentheses, quoted literals: OData's operators over the kit's query engine),
  ``$orderby``, ``$top`` and ``$skip``; ``/$count`` answers a plain integer. The server pages at 20 rows
  unless ``Prefer: odata.maxpagesize=N`` (answered with ``Preference-Applied``) or b1sl's ``B1S-PageSize``
  says otherwise (0: no paging), and links the next page with ``@odata.nextLink`` (v1:
  ``odata.nextLink``): the request's own options plus ``$skip``, relative to the service root;
* entities ``Items`` (the World's SKUs, ``ItemWarehouseInfoCollection`` their stock per warehouse),
  ``BusinessPartners`` (the World's customers, ``cCustomer``), and the marketing documents ``Orders``,
  ``DeliveryNotes`` (fulfilled orders), ``Invoices`` (paid orders) and ``CreditNotes`` (their refunds),
  each with ``DocumentLines`` whose ``BaseType``/``BaseEntry``/``BaseLine`` name the document they copy
  (17 order, 13 invoice). The documents are the orders of one World shop (``shop``; the launcher takes
  the account's name): the merchant's distributor sales booked in SAP, so no other channel's orders are
  counted twice. ``UpdateDate``/``UpdateTime`` (and ``DocDate``/``DocTime``) are separate strings on the
  company's wall clock (``zone``), as the Service Layer writes them.

SAP documents no rate limit of its own: the bucket (off unless ``bucket`` is set) and the fault switch
answer 429 with ``Retry-After`` and the envelope, as the reverse proxy in front of a Service Layer does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import Bucket, HttpSandbox, json_response
from .kit.query import QueryError, Row, Table, fields
from .kit.sessions import Sessions
from .launch import Launcher, Running, local_port
from .world import WAREHOUSES, Order, World

DEFAULT_PAGE = 20  # the Service Layer's page size when the client asks for none
ORDER, INVOICE = 17, 13  # object types, as a copied line's BaseType names its base document
ODATA_OPERATORS = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
LITERAL = re.compile(r"'(?:[^']|'')*'")
OPERATOR = re.compile(r"(?<=\s)(eq|ne|gt|ge|lt|le)(?=\s)")
INVALID_SESSION = (301, "Invalid session or session already timeout.")
LOGIN_FAILED = (100000027, "Login failed")


def sap_error(status: int, code: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return json_response({"error": {"code": code, "message": {"lang": "en-us", "value": message}}}, status,
                         dict(headers or {}))


def document_number(order: Order) -> int:
    """DocEntry of the World order's documents (each object type numbers its own: they happen to agree)."""
    return order.id - 5_000_000_000


class SapB1Sandbox(HttpSandbox):
    name = "sap_b1"

    def __init__(self, world: World, company_db: str, user: str, password: str, *, shop: str,
                 zone: str = "Europe/Berlin", bucket: Bucket | None = None) -> None:
        super().__init__(world)
        self.company_db, self.user, self.password, self.shop = company_db, user, password, shop
        self.zone = ZoneInfo(zone)
        self.bucket = bucket
        self.throttled = 0  # calls the bucket refused
        self.sessions = Sessions()
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []  # (entity, query, headers) read
        self.retry_after = 1.0
        self.routes = Map([Rule("/b1s/<any(v1, v2):version>/Login", endpoint="login", methods=["POST"]),
                           Rule("/b1s/<any(v1, v2):version>/Logout", endpoint="logout", methods=["POST"]),
                           Rule("/b1s/<any(v1, v2):version>/<entity>/$count", endpoint="count", methods=["GET"]),
                           Rule("/b1s/<any(v1, v2):version>/<entity>", endpoint="collection", methods=["GET"])])
        self.names: dict[str, str] = {}  # lower case -> the property's name as SAP spells it
        self.entities = {"Items": self._items(), "BusinessPartners": self._partners(),
                         "Orders": self._documents(self._order_rows),
                         "DeliveryNotes": self._documents(self._delivery_rows),
                         "Invoices": self._documents(self._invoice_rows),
                         "CreditNotes": self._documents(self._credit_note_rows)}

    # -- the World as Service Layer entities ------------------------------------------------------------
    def _fields(self, **getters: Callable[[Any, Any], Any]) -> dict[str, Callable[[Any, Any], Any]]:
        """The kit's case-insensitive getters, remembering how SAP spells each property for rendering."""
        self.names.update({name.lower(): name for name in getters})
        return fields(**getters)

    def _date(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d")

    def _time(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%H:%M:%S")

    def _stamps(self, created: Callable[[Any], datetime], updated: Callable[[Any], datetime]) -> dict[str, Any]:
        return self._fields(CreateDate=lambda o, _: self._date(created(o)), CreateTime=lambda o, _: self._time(created(o)),
                            UpdateDate=lambda o, _: self._date(updated(o)), UpdateTime=lambda o, _: self._time(updated(o)))

    def _items(self) -> Table:
        world = self.world

        def warehouses(sku: Any) -> list[dict[str, Any]]:
            held = {r.warehouse: r.quantity for r in world.stock if r.sku is sku}
            return [{"ItemCode": sku.code, "WarehouseCode": code, "InStock": Decimal(held.get(code, 0)),
                     "Committed": Decimal(0), "Ordered": Decimal(0), "Locked": "tNO"} for code, *_ in WAREHOUSES]

        return Table(lambda lines: [(sku, None) for sku in world.skus], {**self._fields(
            ItemCode=lambda s, _: s.code, ItemName=lambda s, _: f"{s.product} {s.variant}",
            ForeignName=lambda s, _: f"{s.product_zh} {s.variant}", BarCode=lambda s, _: s.barcode,
            InventoryItem=lambda s, _: "tYES", SalesItem=lambda s, _: "tYES", Valid=lambda s, _: "tYES",
            Frozen=lambda s, _: "tNO", InventoryUOM=lambda s, _: "pcs",
            QuantityOnStock=lambda s, _: sum(w["InStock"] for w in warehouses(s)),
            ItemWarehouseInfoCollection=lambda s, _: warehouses(s)),
            **self._stamps(lambda s: s.modified_at, lambda s: s.modified_at)})

    def _partners(self) -> Table:
        return Table(lambda lines: [(c, None) for c in self.world.customers], {**self._fields(
            CardCode=lambda c, _: f"C{c.id}", CardName=lambda c, _: f"{c.first_name} {c.last_name}",
            CardType=lambda c, _: "cCustomer", Phone1=lambda c, _: c.in_erp[1], EmailAddress=lambda c, _: c.in_erp[0],
            Currency=lambda c, _: "##", Valid=lambda c, _: "tYES", Frozen=lambda c, _: "tNO"),
            **self._stamps(lambda c: c.created_at, lambda c: c.updated_at)})

    def _documents(self, rows: Callable[[], list[tuple[Order, dict[str, Any]]]]) -> Table:
        """A marketing document per (World order, its rendering as this object): header fields read from
        the rendering, which also holds the lines."""
        header = ("DocEntry", "DocNum", "DocTotal", "VatSum", "TotalDiscount", "DocumentStatus", "Cancelled",
                  "DocumentLines", "Comments", "PaidToDate")
        return Table(lambda lines: [(order, doc) for order, doc in rows()], {**self._fields(
            **{name: _rendered(name) for name in header},
            CardCode=lambda o, _: f"C{o.customer.id}",
            CardName=lambda o, _: f"{o.customer.first_name} {o.customer.last_name}",
            NumAtCard=lambda o, _: f"{o.shop} #{o.number}", DocCurrency=lambda o, _: o.currency,
            DocDate=lambda o, _: self._date(o.created_at), DocDueDate=lambda o, _: self._date(o.created_at),
            DocTime=lambda o, _: self._time(o.created_at)),
            **self._stamps(lambda o: o.created_at, lambda o: o.updated_at)})

    @staticmethod
    def _lines(order: Order, base: tuple[int, int] | None) -> list[dict[str, Any]]:
        """The order's lines, shipped from the main warehouse; ``base``: the (object type, DocEntry) copied."""
        return [{"LineNum": n, "ItemCode": line.sku.code, "ItemDescription": f"{line.sku.product} {line.sku.variant}",
                 "Quantity": Decimal(line.quantity), "UnitPrice": line.unit_price, "Price": line.unit_price,
                 "LineTotal": line.amount, "Currency": order.currency, "WarehouseCode": WAREHOUSES[0][0],
                 "BaseType": base[0] if base else -1, "BaseEntry": base[1] if base else None,
                 "BaseLine": n if base else None} for n, line in enumerate(order.lines)]

    def _header(self, order: Order, lines: list[dict[str, Any]], closed: bool) -> dict[str, Any]:
        return {"DocEntry": document_number(order), "DocNum": order.number, "DocTotal": order.total,
                "VatSum": order.tax, "TotalDiscount": order.discount, "DocumentLines": lines,
                "DocumentStatus": "bost_Close" if closed else "bost_Open", "Cancelled": "tNO", "Comments": None}

    def _order_rows(self) -> list[tuple[Order, dict[str, Any]]]:
        """The orders; one cancelled after it was invoiced keeps its invoice, credited by a credit note."""
        return [(o, {**self._header(o, self._lines(o, None), o.cancelled_at is not None
                                    or o.fulfillment_status == "fulfilled"),
                     "Cancelled": "tYES" if o.cancelled_at else "tNO"}) for o in self.world.orders_of(self.shop)]

    def _delivery_rows(self) -> list[tuple[Order, dict[str, Any]]]:
        return [(o, self._header(o, self._lines(o, (ORDER, document_number(o))), True))
                for o in self.world.orders_of(self.shop) if o.fulfillment_status == "fulfilled"]

    def _invoiced(self) -> list[Order]:
        return [o for o in self.world.orders_of(self.shop) if o.financial_status in ("paid", "partially_refunded", "refunded")]

    def _invoice_rows(self) -> list[tuple[Order, dict[str, Any]]]:
        return [(o, {**self._header(o, self._lines(o, (ORDER, document_number(o))), True), "PaidToDate": o.total})
                for o in self._invoiced()]

    def _credit_note_rows(self) -> list[tuple[Order, dict[str, Any]]]:
        """One credit note per refund the shop shows, a line of the refunded item for the refund's amount,
        copied from the order's invoice."""
        rows = []
        for order in self._invoiced():
            lines = {line.id: n for n, line in enumerate(order.lines)}
            for refund in order.refunds:
                line_id, quantity = refund.lines[0]
                line = order.lines[lines[line_id]]
                rows.append((order, {
                    "DocEntry": refund.id - 500_000_000_000, "DocNum": refund.id % 100_000, "DocTotal": refund.amount,
                    "VatSum": Decimal(0), "TotalDiscount": Decimal(0), "DocumentStatus": "bost_Close", "Cancelled": "tNO",
                    "Comments": f"refund {refund.id}", "DocumentLines": [{
                        "LineNum": 0, "ItemCode": line.sku.code, "ItemDescription": line.sku.product,
                        "Quantity": Decimal(quantity), "UnitPrice": refund.amount, "Price": refund.amount,
                        "LineTotal": refund.amount, "Currency": order.currency, "WarehouseCode": WAREHOUSES[0][0],
                        "BaseType": INVOICE, "BaseEntry": document_number(order), "BaseLine": lines[line_id]}]}))
        return rows

    # -- platform specifics ---------------------------------------------------------------------------
    def rate_limited(self, request: Request) -> Response:
        return sap_error(429, 429, "Too Many Requests", {"Retry-After": f"{self.retry_after:g}"})

    def server_error(self, request: Request) -> Response:
        return sap_error(503, -5002, "Service Unavailable")

    def not_found(self, request: Request) -> Response:
        segment = request.path.removeprefix("/b1s/").split("/")[-1]
        return sap_error(404, -1000, f"Resource not found for the segment '{segment}'.")

    def authenticate(self, request: Request) -> Response | None:
        if request.path.endswith("/Login"):
            return None
        if self.sessions.valid(request.cookies.get("B1SESSION")):
            return None
        return sap_error(401, *INVALID_SESSION)

    def before_request(self, request: Request) -> Response | None:
        if self.bucket is not None and not self.bucket.take():
            with self._lock:
                self.throttled += 1
            wait = max(self.retry_after, (1 - self.bucket.available()) / self.bucket.rate)
            return sap_error(429, 429, "Too Many Requests", {"Retry-After": f"{wait:.2f}"})
        return None

    # -- endpoints --------------------------------------------------------------------------------------
    def login(self, request: Request, version: str) -> Response:
        body = request.get_json(silent=True) or {}
        if [body.get("CompanyDB"), body.get("UserName"), body.get("Password")] != [self.company_db, self.user,
                                                                                   self.password]:
            return sap_error(401, *LOGIN_FAILED)
        sid = self.sessions.open()
        context = "@odata.context" if version == "v2" else "odata.metadata"
        response = json_response({context: f"{request.host_url}b1s/{version}/$metadata#B1Sessions/$entity",
                                  "SessionId": sid, "Version": "1000190", "SessionTimeout": 30})
        response.set_cookie("B1SESSION", sid, path="/b1s", httponly=True)
        response.set_cookie("ROUTEID", ".node1", path="/b1s")
        return response

    def logout(self, request: Request, version: str) -> Response:
        return Response(status=204)

    def count(self, request: Request, version: str, entity: str) -> Response:
        if entity not in self.entities:
            return self.not_found(request)
        try:
            rows = self._select(entity, request)
        except QueryError as exc:
            return sap_error(400, -1000, str(exc))
        return Response(str(len(rows)), 200, {"Content-Type": "text/plain"})

    def collection(self, request: Request, version: str, entity: str) -> Response:
        if entity not in self.entities:
            return self.not_found(request)
        args = request.args
        try:
            rows = self._select(entity, request)
            skip, top = int(args.get("$skip", 0)), int(args["$top"]) if "$top" in args else None
        except (QueryError, ValueError) as exc:
            return sap_error(400, -1000, str(exc))
        table = self.entities[entity]
        select = [key.strip() for key in args.get("$select", "").split(",") if key.strip()] or list(table.fields)
        size, applied = self._page_size(request)
        rows = rows[skip:] if top is None else rows[skip:skip + top]
        page = rows if size == 0 else rows[:size]
        with self._lock:
            self.requests.append((entity, dict(args), dict(request.headers)))
        self.count_records(entity, len(page))
        names = {key.lower(): self.names.get(key.lower(), key) for key in select}
        body: dict[str, Any] = {("@odata.context" if version == "v2" else "odata.metadata"):
                                f"{request.host_url}b1s/{version}/$metadata#{entity}",
                                "value": [{names[k]: _render(table.value(k, row, self.zone)) for k in names}
                                          for row in page]}
        if size and len(rows) > size:
            following = {**args, "$skip": skip + size} if top is None else {**args, "$skip": skip + size,
                                                                            "$top": top - size}
            link = f"{entity}?{urlencode(following, quote_via=quote, safe=',$')}"
            body["@odata.nextLink" if version == "v2" else "odata.nextLink"] = link
        return json_response(body, headers={"Preference-Applied": f"odata.maxpagesize={size}"} if applied else None)

    def _select(self, entity: str, request: Request) -> list[Row]:
        table = self.entities[entity]
        args = request.args
        select = [key.strip() for key in args.get("$select", "").split(",") if key.strip()]
        if (unknown := table.unknown(select)) is not None:
            raise QueryError(f"Property '{unknown}' of '{entity}' is invalid", unknown)
        order = ", ".join(part.strip() for part in args.get("$orderby", "").split(",") if part.strip())
        try:
            return table.select(select, sql_filter(args.get("$filter", "")), order, self.zone)
        except QueryError as exc:  # the kit words its errors as Kingdee does: say them as SAP does
            if exc.field is None:
                raise QueryError(f"Syntax error in $filter: {args.get('$filter')}") from None
            raise QueryError(f"Property '{exc.field}' of '{entity}' is invalid", exc.field) from None

    @staticmethod
    def _page_size(request: Request) -> tuple[int, bool]:
        """``Prefer: odata.maxpagesize=N`` (told back in ``Preference-Applied``), else ``B1S-PageSize``,
        else the server's 20."""
        preferred = re.search(r"odata\.maxpagesize=(\d+)", request.headers.get("Prefer", ""))
        if preferred:
            return int(preferred.group(1)), True
        size = request.headers.get("B1S-PageSize", "")
        return (int(size), False) if size.isdigit() else (DEFAULT_PAGE, False)


def _rendered(name: str) -> Callable[[Order, dict[str, Any]], Any]:
    """The getter of a document field kept in its rendering (the field differs between object types)."""
    return lambda order, document: document.get(name)


def sql_filter(text: str) -> str:
    """An OData ``$filter`` in the kit's SQL subset: the comparison operators outside quoted literals
    become SQL's (functions such as ``startswith`` stay unknown, and are refused as a syntax error)."""
    parts, pos = [], 0
    for literal in LITERAL.finditer(text):
        parts += [OPERATOR.sub(lambda m: ODATA_OPERATORS[m.group(1)], text[pos:literal.start()]), literal.group()]
        pos = literal.end()
    return "".join([*parts, OPERATOR.sub(lambda m: ODATA_OPERATORS[m.group(1)], text[pos:])])


def _render(value: Any) -> Any:
    """JSON as the Service Layer writes it: numbers for decimals, also inside collections."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return [{key: _render(item) for key, item in entry.items()} for entry in value]
    return value


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = SapB1Sandbox(world, str(settings.get("company_db", "")), str(settings.get("user", "")),
                           credentials.get("password", ""), shop=account,
                           zone=str(settings.get("timezone", "Europe/Berlin")))
    port = local_port(account, settings)
    return Running(account, "sap_b1", sandbox.serve(port=port), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start)
