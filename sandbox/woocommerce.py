"""WooCommerce REST API v3 (``/wp-json/wc/v3``) emulator for one store of the World.

Faithful to the documented behaviour (../shared/reference/commerce_apis.md, section 2):

* auth: over plain http only one-legged OAuth 1.0a (HMAC-SHA1 or HMAC-SHA256, oauth_* in the query
  string or an ``Authorization: OAuth`` header; timestamp within 15 minutes, nonce used once), verified
  here from WooCommerce's server algorithm, not with any client library. Over https (``X-Forwarded-Proto``
  from a TLS proxy) HTTP Basic ``ck_…:cs_…`` or ``consumer_key``/``consumer_secret`` in the query.
  Duplicated query parameters (the official Python client sends them twice) keep the last value;
  both signing keys ``secret&`` and the bare secret are accepted, as old client versions used the latter;
* page/per_page paging (per_page 1..100, else 400 ``rest_invalid_param``) with ``X-WP-Total``,
  ``X-WP-TotalPages`` and a ``Link`` header (rel prev/next);
* ``modified_after``/``modified_before``/``after``/``before`` read in the site's zone unless
  ``dates_are_gmt=true`` or the value carries an offset; ``orderby`` date|id|modified|include,
  ``order`` asc|desc (default date desc), ``status``;
* orders with line items and refund summaries, ``orders/<id>/refunds``, variable products with
  ``products/<id>/variations``; money as strings with the currency's decimals; dates without a zone in
  the site's time, each with a ``_gmt`` twin; a store that ships with couriers itself records their
  waybills on its orders as the Shipment Tracking extension does (meta ``_wc_shipment_tracking_items``;
  recording one saves the order again, moving its ``date_modified``);
* stock: ``stock_quantity`` per variation, set through ``products/<id>/variations/batch`` (at most 100
  items, 413 beyond; an unknown id is an error inside the 200 answer, as WooCommerce embeds them);
  there is no compare-and-set, as in WooCommerce;
* errors as ``{"code", "message", "data": {"status"}}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import HttpSandbox, json_response, oauth1
from .kit.paging import numbered_page, page_links
from .launch import Launcher, Running, local_port
from .world import VARIANTS, Order, Shipment, Sku, World

API = "/wp-json/wc/v3"
MAX_PER_PAGE = 100
MAX_BATCH = 100  # WooCommerce's default woocommerce_rest_batch_items_limit
PRODUCT_ID, VARIATION_ID = 100, 10_000  # WordPress post ids: small, shared by products and variations
# The couriers a Chinese store names in Shipment Tracking (custom providers), by the World's carrier code
COURIERS = {"SF": "顺丰速运", "ZTO": "中通快递", "YTO": "圆通速递", "YUNDA": "韵达快递"}
STATUS = {"pending": "pending", "paid": "processing", "partially_refunded": "processing",
          "refunded": "refunded", "voided": "cancelled"}


DENIED = {"key": "Consumer key is invalid.", "signature": "Invalid signature - provided signature does not match.",
          "method": "Invalid signature method - must be HMAC-SHA1 or HMAC-SHA256.", "timestamp": "Invalid timestamp.",
          "nonce": "Invalid nonce - nonce has already been used."}


def error(code: str, message: str, status: int) -> Response:
    return json_response({"code": code, "message": message, "data": {"status": status}}, status)


class WooCommerceSandbox(HttpSandbox):
    name = "woocommerce"

    def __init__(self, world: World, store: str, consumer_key: str, consumer_secret: str) -> None:
        super().__init__(world)
        self.store = world.shop(store)
        self.zone = ZoneInfo(self.store.timezone)
        self.consumer = oauth1.Consumer(consumer_key, consumer_secret)
        self.retry_after = 1.0
        self.log: list[tuple[str, dict[str, str], int]] = []  # (path, query args, status) per request
        self.skus = {VARIATION_ID + sku.index: sku for sku in world.skus}
        self.products = world.products()  # product number -> its variations' SKUs
        self.quantities = {VARIATION_ID + index: quantity for index, quantity in world.on_hand().items()}
        self.batch_calls: list[dict[str, Any]] = []  # request bodies of variations/batch, in arrival order
        self.routes = Map([
            Rule(f"{API}/orders", endpoint="orders_endpoint", methods=["GET"]),
            Rule(f"{API}/orders/<int:order_id>/refunds", endpoint="refunds_endpoint", methods=["GET"]),
            Rule(f"{API}/products", endpoint="products_endpoint", methods=["GET"]),
            Rule(f"{API}/products/<int:product_id>/variations", endpoint="variations_endpoint", methods=["GET"]),
            Rule(f"{API}/products/<int:product_id>/variations/batch", endpoint="variations_batch_endpoint",
                 methods=["POST", "PUT", "PATCH"]),
        ])

    # -- platform specifics ---------------------------------------------------------------------------
    def rate_limited(self, request: Request) -> Response:
        """Core WooCommerce has no rate limit; hosts that add one answer like this."""
        response = error("woocommerce_rest_too_many_requests", "Too many requests.", 429)
        response.headers["Retry-After"] = f"{self.retry_after:g}"
        return response

    def server_error(self, request: Request) -> Response:
        return error("internal_server_error", "There has been a critical error on this website.", 500)

    def not_found(self, request: Request) -> Response:
        return error("rest_no_route", "No route was found matching the URL and request method", 404)

    def after_request(self, request: Request, response: Response) -> Response:
        with self._lock:
            self.log.append((request.path, dict(self._args(request)), response.status_code))
        return response

    def authenticate(self, request: Request) -> Response | None:
        args = self._args(request)
        if request.headers.get("X-Forwarded-Proto") == "https":
            basic = request.authorization
            key, secret = (basic.username, basic.password) if basic else (args.get("consumer_key"),
                                                                           args.get("consumer_secret"))
            if (key, secret) == (self.consumer.key, self.consumer.secret):
                return None
            return error("woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401)
        params = {**args, **oauth1.header_params(request)}
        if "oauth_signature" not in params:
            return error("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401)
        refused = self.consumer.refusal(request.method, f"http://{request.host}{request.path}", params)
        return error("woocommerce_rest_authentication_error", DENIED[refused], 401) if refused else None

    @staticmethod
    def _args(request: Request) -> dict[str, str]:
        """Query and form parameters, the last value of a repeated name winning (PHP's ``$_GET``)."""
        return dict(parse_qsl(request.query_string.decode(), keep_blank_values=True)) | dict(request.form)

    # -- endpoints --------------------------------------------------------------------------------------
    def orders_endpoint(self, request: Request) -> Response:
        orders, recorded = self.world.orders_of(self.store.name), self.recorded_waybills()
        return self._listing(request, "orders", orders, lambda o: self.render_order(o, recorded.get(o.id)),
                             created=lambda o: o.created_at, modified=lambda o: saved_at(o, recorded.get(o.id)),
                             key=lambda o: o.number)

    def recorded_waybills(self) -> dict[int, Shipment]:
        """The couriers' waybills the store has recorded on its orders by now (its shipper is the shop
        itself), by World order id."""
        return {shipment.order.id: shipment for shipment in self.world.shipments_of("shop")
                if shipment.order.shop == self.store.name and shipment.created_at <= self.world.now}

    def refunds_endpoint(self, request: Request, order_id: int) -> Response:
        order = next((o for o in self.world.orders_of(self.store.name) if o.number == order_id), None)
        if order is None:
            return error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        return self._listing(request, "refunds", order.refunds, lambda r: self.render_refund(order, r),
                             created=lambda r: r.created_at, modified=lambda r: r.created_at, key=lambda r: r.id)

    def products_endpoint(self, request: Request) -> Response:
        products = sorted(self.products)
        return self._listing(request, "products", products, self.render_product,
                             created=lambda p: self._product_skus(p)[0].modified_at,
                             modified=lambda p: max(s.modified_at for s in self._product_skus(p)),
                             key=lambda p: PRODUCT_ID + p)

    def variations_endpoint(self, request: Request, product_id: int) -> Response:
        skus = self._product_skus(product_id - PRODUCT_ID)
        if not skus:
            return error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        include = {int(i) for i in self._args(request).get("include", "").split(",") if i.strip().isdigit()}
        if include:
            skus = [sku for sku in skus if VARIATION_ID + sku.index in include]
        return self._listing(request, "variations", skus, self.render_variation, created=lambda s: s.modified_at,
                             modified=lambda s: s.modified_at, key=lambda s: VARIATION_ID + s.index)

    def variations_batch_endpoint(self, request: Request, product_id: int) -> Response:
        body = request.get_json(silent=True) or {}
        updates = body.get("update", [])
        if len(updates) + len(body.get("create", [])) + len(body.get("delete", [])) > MAX_BATCH:
            return error("woocommerce_rest_request_entity_too_large",
                         f"Unable to accept more than {MAX_BATCH} items for this request.", 413)
        ours = {VARIATION_ID + sku.index for sku in self._product_skus(product_id - PRODUCT_ID)}
        with self._lock:
            self.batch_calls.append(body)
            answers = []
            for item in updates:
                variation = item.get("id")
                if variation not in ours:
                    answers.append({"id": variation, "error": {"code": "woocommerce_rest_product_variation_invalid_id",
                                                               "message": "Invalid ID.", "data": {"status": 400}}})
                    continue
                if "stock_quantity" in item:
                    self.quantities[variation] = int(item["stock_quantity"])
                answers.append(self.render_variation(self.skus[variation]))
        return json_response({"create": [], "update": answers, "delete": []})

    def sell(self, variation_id: int, quantity: int) -> None:
        """A sale on the store: its stock goes down under whoever last set it."""
        with self._lock:
            self.quantities[variation_id] -= quantity

    # -- listing: filters, order, paging ------------------------------------------------------------------
    def _listing(self, request: Request, stream: str, items: list[Any], render: Callable[[Any], dict],
                 *, created: Callable[[Any], datetime], modified: Callable[[Any], datetime],
                 key: Callable[[Any], int]) -> Response:
        args = self._args(request)
        try:
            page, per_page = int(args.get("page", 1)), int(args.get("per_page", 10))
        except ValueError:
            return error("rest_invalid_param", "Invalid parameter(s): page, per_page", 400)
        if not 1 <= per_page <= MAX_PER_PAGE or page < 1:
            return error("rest_invalid_param", "Invalid parameter(s): per_page (must be between 1 (inclusive) "
                                               "and 100 (inclusive))", 400)
        gmt = args.get("dates_are_gmt", "").lower() in {"1", "true"}
        bounds = {"after": (created, 1), "before": (created, -1),
                  "modified_after": (modified, 1), "modified_before": (modified, -1)}
        for name, (field, sign) in bounds.items():
            if name in args:
                try:
                    bound = self._parse_date(args[name], gmt)
                except ValueError:
                    return error("rest_invalid_param", f"Invalid parameter(s): {name}", 400)
                items = [item for item in items if (field(item) - bound).total_seconds() * sign > 0]
        orderby = args.get("orderby", "date")
        sort_keys = {"date": lambda i: (created(i), key(i)), "id": key, "include": key,
                     "modified": lambda i: (modified(i), key(i))}
        if orderby not in sort_keys or args.get("order", "desc") not in {"asc", "desc"}:
            return error("rest_invalid_param", "Invalid parameter(s): orderby, order", 400)
        items = sorted(items, key=sort_keys[orderby], reverse=args.get("order", "desc") == "desc")
        if stream == "orders" and args.get("status", "any") != "any":
            items = [o for o in items if self._status(o) in args["status"].split(",")]
        listed = numbered_page(items, page, per_page)
        self.count_records(stream, len(listed.items))
        headers = {"X-WP-Total": str(listed.total), "X-WP-TotalPages": str(listed.pages)}
        if link := page_links(f"{request.host_url.rstrip('/')}{request.path}", args, listed):
            headers["Link"] = link
        fields = [name for name in args.get("_fields", "").split(",") if name]  # WordPress's global ``_fields``
        rendered = [render(item) for item in listed.items]
        if fields:
            rendered = [{name: body[name] for name in fields if name in body} for body in rendered]
        return json_response(rendered, headers=headers)

    def _parse_date(self, value: str, gmt: bool) -> datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC if gmt else self.zone)
        return parsed

    # -- rendering ------------------------------------------------------------------------------------------
    def _dates(self, name: str, when: datetime | None) -> dict[str, str | None]:
        """WooCommerce's pair: site-local time without a zone, and its ``_gmt`` twin."""
        if when is None:
            return {name: None, f"{name}_gmt": None}
        return {name: when.astimezone(self.zone).replace(tzinfo=None).isoformat(timespec="seconds"),
                f"{name}_gmt": when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")}

    @staticmethod
    def _status(order: Order) -> str:
        if order.cancelled_at is not None:
            return "cancelled"
        if order.financial_status == "paid" and order.fulfillment_status == "fulfilled":
            return "completed"
        return STATUS[order.financial_status]

    def _product_skus(self, product: int) -> list[Sku]:
        return self.products.get(product, [])

    def render_order(self, order: Order, shipment: Shipment | None = None) -> dict[str, Any]:
        customer, currency = order.customer, order.currency
        paid = order.financial_status != "pending"
        payments = (*order.paypal, *order.alipay, *order.wechatpay, *order.charges)
        return {
            "id": order.number, "parent_id": 0, "number": str(order.number), "order_key": f"wc_order_{order.id:x}",
            "created_via": "checkout", "status": self._status(order), "currency": currency,
            **self._dates("date_created", order.created_at), **self._dates("date_modified", saved_at(order, shipment)),
            **self._dates("date_paid", order.created_at if paid else None),
            **self._dates("date_completed", order.updated_at if self._status(order) == "completed" else None),
            "discount_total": money(order.discount), "shipping_total": money(order.shipping),
            "total_tax": money(order.tax), "total": money(order.total), "prices_include_tax": False,
            "customer_id": customer.id, "payment_method": payment_method(order),
            "transaction_id": payments[0].id if payments else "",
            "billing": {"first_name": customer.first_name, "last_name": customer.last_name,
                        "email": customer.email, "phone": customer.phone, "country": self.store.currency[:2]},
            "line_items": [{
                "id": line.id, "name": f"{line.sku.product} - {line.sku.variant}",
                "product_id": PRODUCT_ID + line.sku.index // len(VARIANTS), "variation_id": VARIATION_ID + line.sku.index,
                "quantity": line.quantity, "subtotal": money(line.amount), "total": money(line.amount),
                "sku": line.sku.code, "price": float(line.unit_price),
            } for line in order.lines],
            "shipping_lines": [{"id": order.number * 10 + 9, "method_title": "Flat rate", "method_id": "flat_rate",
                                "total": money(order.shipping)}],
            "refunds": [{"id": refund.id, "reason": "", "total": money(-refund.amount)} for refund in order.refunds],
            "meta_data": [self.tracking_meta(order, shipment)] if shipment else [],
        }

    def tracking_meta(self, order: Order, shipment: Shipment) -> dict[str, Any]:
        """The waybill as the WooCommerce Shipment Tracking extension keeps it, in the order's meta
        ``_wc_shipment_tracking_items``: a courier it does not list is a custom provider, and
        ``date_shipped`` is the ship date's midnight in the site's zone, as a Unix timestamp string."""
        day = shipment.created_at.astimezone(self.zone).replace(hour=0, minute=0, second=0, microsecond=0)
        return {"id": order.number * 10 + 7, "key": "_wc_shipment_tracking_items", "value": [{
            "tracking_provider": "", "custom_tracking_provider": COURIERS.get(shipment.carrier, shipment.carrier),
            "custom_tracking_link": "", "tracking_number": shipment.tracking_code,
            "date_shipped": str(int(day.timestamp())), "tracking_id": shipment.id[4:36]}]}

    def render_refund(self, order: Order, refund: Any) -> dict[str, Any]:
        lines = {line.id: line for line in order.lines}
        return {
            "id": refund.id, **self._dates("date_created", refund.created_at), "amount": money(refund.amount),
            "reason": "", "refunded_by": 1, "refunded_payment": True, "meta_data": [],
            "line_items": [{"id": refund.id * 10 + n, "name": lines[line_id].sku.product, "sku": lines[line_id].sku.code,
                            "quantity": -quantity, "total": money(-lines[line_id].unit_price * quantity)}
                           for n, (line_id, quantity) in enumerate(refund.lines)],
        }

    def render_product(self, product: int) -> dict[str, Any]:
        skus = self._product_skus(product)
        first = skus[0]
        return {
            "id": PRODUCT_ID + product, "name": first.product, "slug": first.product.lower().replace(" ", "-"),
            "type": "variable", "status": "publish", "sku": first.code.rsplit("-", 1)[0],
            **self._dates("date_created", first.modified_at),
            **self._dates("date_modified", max(s.modified_at for s in skus)),
            "price": money(first.price(self.store.currency)), "manage_stock": False, "stock_quantity": None,
            "variations": [VARIATION_ID + sku.index for sku in skus],
        }

    def render_variation(self, sku: Sku) -> dict[str, Any]:
        return {
            "id": VARIATION_ID + sku.index, "sku": sku.code, "price": money(sku.price(self.store.currency)),
            "regular_price": money(sku.price(self.store.currency)), **self._dates("date_modified", sku.modified_at),
            "manage_stock": True, "stock_quantity": self.quantities[VARIATION_ID + sku.index],
            "stock_status": "instock" if self.quantities[VARIATION_ID + sku.index] > 0 else "outofstock",
            "attributes": [{"id": 1, "name": "Size", "option": sku.variant}], "barcode": sku.barcode,
        }


def saved_at(order: Order, recorded: Shipment | None) -> datetime:
    """When the order was last saved: recording a waybill on it saves it again."""
    return max(order.updated_at, recorded.created_at) if recorded else order.updated_at


def payment_method(order: Order) -> str:
    """The gateway id WooCommerce stores: PayPal Payments (``ppcp-gateway``), the Alipay and WeChat Pay
    plugins (``alipay``, ``wechat_pay``, as the World's wallet gateways), else Stripe's plugin."""
    if order.paypal:
        return "ppcp-gateway"
    if order.alipay or order.wechatpay:
        return order.gateways[0]
    return "stripe"


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = WooCommerceSandbox(world, account, credentials["consumer_key"], credentials["consumer_secret"])
    return Running(account, "woocommerce", sandbox.serve(port=local_port(account, settings)), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start, {"consumer_key": "ck_", "consumer_secret": "cs_"})
