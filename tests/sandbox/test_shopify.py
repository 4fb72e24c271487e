"""Fidelity of the Shopify sandbox to the documented Admin REST behaviour (what clients rely on)."""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from datetime import UTC, datetime, time
from typing import Any

import pytest
import requests
import shopify
from pyactiveresource.connection import ResourceNotFound

from sandbox.shopify import ShopifySandbox
from sandbox.world import ShopSpec, World, WorldSpec

TOKEN = "shpat_sandbox_test"
LINK = re.compile(r'<(?P<url>[^>]+)>; rel="(?P<rel>next|previous)"')


@pytest.fixture(scope="module")
def world() -> World:
    return World(WorldSpec(orders=300, skus=16, customers=40,
                           shops=(ShopSpec("shop_us", "USD", "America/New_York"),
                                  ShopSpec("shop_eu", "EUR", "Europe/Berlin"))))


@pytest.fixture
def shop(world: World):
    with ShopifySandbox(world, "shop_us", access_token=TOKEN, rate_limiting=False) as sandbox:
        yield sandbox


def get(sandbox: ShopifySandbox, resource: str, token: str = TOKEN, **params) -> requests.Response:
    url = resource if resource.startswith("http") else f"{sandbox.base_url}/admin/api/2024-07/{resource}.json"
    return requests.get(url, params=params, headers={"X-Shopify-Access-Token": token}, timeout=10)


def links(response: requests.Response) -> dict[str, str]:
    return {m["rel"]: m["url"] for m in LINK.finditer(response.headers.get("Link", ""))}


def test_link_header_walks_every_order_once_in_updated_order(shop: ShopifySandbox) -> None:
    response = get(shop, "orders", limit=40, status="any", order="updated_at asc")
    first_ids = [o["id"] for o in response.json()["orders"]]
    assert set(links(response)) == {"next"}
    next_url = links(response)["next"]
    assert re.fullmatch(rf"{re.escape(shop.base_url)}/admin/api/2024-07/orders\.json\?limit=40&page_info=[\w-]+",
                        next_url)
    seen, keys = list(first_ids), []
    while "next" in links(response):
        response = get(shop, links(response)["next"])
        assert response.status_code == 200
        seen += [o["id"] for o in response.json()["orders"]]
        keys += [(datetime.fromisoformat(o["updated_at"]), o["id"]) for o in response.json()["orders"]]
    assert sorted(seen) == sorted(o.id for o in shop.orders()) and len(seen) == len(set(seen))
    assert keys == sorted(keys)
    second = get(shop, links(get(shop, "orders", limit=40, status="any", order="updated_at asc"))["next"])
    assert set(links(second)) == {"next", "previous"}
    assert [o["id"] for o in get(shop, links(second)["previous"]).json()["orders"]] == first_ids


def test_single_page_has_no_link_and_default_limit_is_50(shop: ShopifySandbox) -> None:
    single = get(shop, "orders", limit=250, status="any")
    assert "Link" not in single.headers and len(single.json()["orders"]) == len(shop.orders())
    assert len(get(shop, "orders", status="any").json()["orders"]) == 50


def test_limit_above_250_is_rejected(shop: ShopifySandbox) -> None:
    response = get(shop, "orders", limit=251)
    assert response.status_code == 400 and "limit" in response.json()["errors"]


def test_page_info_allows_only_limit_and_fields(shop: ShopifySandbox) -> None:
    next_url = links(get(shop, "orders", limit=10, status="any"))["next"]
    rejected = get(shop, next_url, status="any")
    assert rejected.status_code == 400
    assert rejected.json() == {"errors": "status cannot be passed when page_info is present. See "
                                         "https://shopify.dev/api/usage/pagination-rest for more information."}
    narrowed = get(shop, next_url, fields="id,total_price")
    assert narrowed.status_code == 200 and set(narrowed.json()["orders"][0]) == {"id", "total_price"}
    garbage = get(shop, "orders", page_info="not-a-cursor")
    assert garbage.status_code == 400 and garbage.json() == {"errors": {"page_info": "Invalid value."}}


def test_status_defaults_to_open(shop: ShopifySandbox) -> None:
    def count(**params) -> int:
        return len(get(shop, "orders", limit=250, **params).json()["orders"])

    orders = shop.orders()
    open_orders = [o for o in orders if o.cancelled_at is None and o.fulfillment_status != "fulfilled"]
    assert 0 < count() == len(open_orders) < len(orders)
    assert count(status="any") == len(orders)
    assert count(status="cancelled") == sum(o.cancelled_at is not None for o in orders)
    assert count() + count(status="closed") + count(status="cancelled") == len(orders)


def test_filters_are_inclusive_and_combine(shop: ShopifySandbox) -> None:
    orders = sorted(shop.orders(), key=lambda o: (o.updated_at, o.id))
    pivot = orders[100]
    after = get(shop, "orders", limit=250, status="any", order="updated_at asc",
                updated_at_min=pivot.updated_at.isoformat()).json()["orders"]
    assert after[0]["id"] == pivot.id and len(after) == len(orders) - 100
    by_id = sorted(o.id for o in orders)
    since = get(shop, "orders", limit=5, status="any", since_id=by_id[9]).json()["orders"]
    assert [o["id"] for o in since] == by_id[10:15]
    picked = get(shop, "orders", status="any", ids=f"{by_id[3]},{by_id[7]}").json()["orders"]
    assert [o["id"] for o in picked] == [by_id[3], by_id[7]]


def test_money_is_strings_and_times_carry_the_shop_offset(world: World) -> None:
    with ShopifySandbox(world, "shop_eu", access_token=TOKEN, rate_limiting=False) as eu:
        order = get(eu, "orders", limit=1, status="any").json()["orders"][0]
    assert re.fullmatch(r"\d+\.\d\d", order["total_price"]) and order["currency"] == "EUR"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00", order["created_at"])
    source = next(o for o in world.orders if o.id == order["id"])
    assert datetime.fromisoformat(order["updated_at"]) == source.updated_at
    assert order["line_items"][0]["sku"] == source.lines[0].sku.code


def test_wrong_token_gets_shopifys_401(shop: ShopifySandbox) -> None:
    response = get(shop, "orders", token="shpat_wrong")
    assert response.status_code == 401
    assert response.json() == {"errors": "[API] Invalid API key or access token "
                                         "(unrecognized login or wrong password)"}


def test_leaky_bucket_overflow_answers_429_like_shopify(world: World) -> None:
    with ShopifySandbox(world, access_token=TOKEN, bucket_size=3, leak_rate=0.01) as sandbox:
        answers = [get(sandbox, "shop") for _ in range(4)]
    assert [a.headers["X-Shopify-Shop-Api-Call-Limit"] for a in answers] == ["1/3", "2/3", "3/3", "3/3"]
    limited = answers[-1]
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2.0"
    assert limited.json() == {"errors": "Exceeded 0.01 calls per second for api client. "
                                        "Reduce request rates to resume uninterrupted service."}


def test_fault_429_has_the_same_shape(shop: ShopifySandbox) -> None:
    shop.faults.rate_limit = 1
    response = get(shop, "orders")
    assert response.status_code == 429 and response.headers["Retry-After"] == "2.0"
    assert response.json()["errors"].startswith("Exceeded 2 calls per second")
    assert get(shop, "orders").status_code == 200


def test_inventory_levels_need_ids_and_set_changes_them(shop: ShopifySandbox, world: World) -> None:
    assert get(shop, "inventory_levels").status_code == 422
    assert get(shop, "inventory_items").status_code == 422
    sku = world.skus[5]
    item, location = shop.inventory_item_id(sku), shop.location_id("01")
    set_url = f"{shop.base_url}/admin/api/2024-07/inventory_levels/set.json"
    headers = {"X-Shopify-Access-Token": TOKEN}
    body = {"location_id": location, "inventory_item_id": item, "available": 3, "disconnect_if_necessary": False}
    answer = requests.post(set_url, json=body, headers=headers, timeout=10)
    assert answer.status_code == 200 and answer.json()["inventory_level"]["available"] == 3
    levels = get(shop, "inventory_levels", inventory_item_ids=str(item)).json()["inventory_levels"]
    assert {level["location_id"]: level["available"] for level in levels}[location] == 3
    bad = requests.post(set_url, json={**body, "inventory_item_id": 1}, headers=headers, timeout=10)
    assert bad.status_code == 422
    assert bad.json() == {"errors": {"inventory_item_id": ["Required parameter missing or invalid"]}}
    assert [call["available"] for call in shop.set_calls] == [3, 3]


def test_deleted_order_disappears_and_leaves_a_destroy_event(world: World) -> None:
    with ShopifySandbox(world, access_token=TOKEN, rate_limiting=False) as sandbox:
        victim = sandbox.orders()[0]
        sandbox.delete_order(victim.id)
        ids = [o["id"] for o in get(sandbox, "orders", limit=250, status="any").json()["orders"]]
        events = get(sandbox, "events", filter="Order", verb="destroy").json()["events"]
    assert victim.id not in ids
    assert [(e["subject_id"], e["subject_type"], e["verb"]) for e in events] == [(victim.id, "Order", "destroy")]


def test_products_group_skus_into_variants(shop: ShopifySandbox, world: World) -> None:
    products = get(shop, "products", limit=250).json()["products"]
    variants = [v for p in products for v in p["variants"]]
    assert sorted(v["sku"] for v in variants) == sorted(s.code for s in world.skus)
    assert len(products) == len(world.skus) // 4
    scopes = requests.get(f"{shop.base_url}/admin/oauth/access_scopes.json",
                          headers={"X-Shopify-Access-Token": TOKEN}, timeout=10).json()
    assert {"handle": "read_orders"} in scopes["access_scopes"]


# -- GraphQL Admin: inventorySetQuantities and nodes -----------------------------------------------------
SET_AVAILABLE = """mutation SetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) { inventoryAdjustmentGroup { reason } userErrors { field message code } }
}"""
READ_LEVELS = """query Levels($ids: [ID!]!) {
  nodes(ids: $ids) { ... on InventoryLevel { id quantities(names: ["available"]) { name quantity } } }
}"""


def graphql(sandbox: ShopifySandbox, query: str, variables: dict, token: str = TOKEN) -> requests.Response:
    return requests.post(f"{sandbox.base_url}/admin/api/2024-07/graphql.json", json={"query": query, "variables": variables},
                         headers={"X-Shopify-Access-Token": token}, timeout=10)


def quantity(sandbox: ShopifySandbox, sku, qty: int, compare: int | None, warehouse: str = "01") -> dict:
    return {"inventoryItemId": f"gid://shopify/InventoryItem/{sandbox.inventory_item_id(sku)}",
            "locationId": f"gid://shopify/Location/{sandbox.location_id(warehouse)}",
            "quantity": qty, "compareQuantity": compare}


def set_input(*quantities: dict, **extra) -> dict:
    return {"input": {"name": "available", "reason": "correction",
                      "referenceDocumentUri": "channelhub://stock-sync/t1", "quantities": list(quantities), **extra}}


def test_inventory_set_quantities_compares_and_sets(shop: ShopifySandbox, world: World) -> None:
    first, second = world.skus[0], world.skus[1]
    item, location = shop.inventory_item_id(first), shop.location_id("01")
    held = shop.available(item, location)
    answer = graphql(shop, SET_AVAILABLE, set_input(quantity(shop, first, held + 5, held),
                                                    quantity(shop, second, 7, shop.available(shop.inventory_item_id(second), location))))
    assert answer.status_code == 200
    payload = answer.json()["data"]["inventorySetQuantities"]
    assert payload["userErrors"] == [] and payload["inventoryAdjustmentGroup"]["reason"] == "correction"
    assert shop.available(item, location) == held + 5 and shop.available(shop.inventory_item_id(second), location) == 7
    change = shop.inventory_changes[0]
    assert (change.inventory_item_id, change.before, change.after, change.reference) == (
        item, held, held + 5, "channelhub://stock-sync/t1")
    nodes = graphql(shop, READ_LEVELS, {"ids": [f"gid://shopify/InventoryLevel/{location}?inventory_item_id={item}",
                                                "gid://shopify/InventoryLevel/1?inventory_item_id=2"]}).json()["data"]["nodes"]
    assert nodes[0]["quantities"] == [{"name": "available", "quantity": held + 5}] and nodes[1] is None


def test_stale_compare_rejects_the_whole_input_and_names_the_quantity(shop: ShopifySandbox, world: World) -> None:
    first, second = world.skus[2], world.skus[3]
    location = shop.location_id("01")
    held_first = shop.available(shop.inventory_item_id(first), location)
    held_second = shop.available(shop.inventory_item_id(second), location)
    answer = graphql(shop, SET_AVAILABLE, set_input(quantity(shop, first, 11, held_first),
                                                    quantity(shop, second, 12, held_second + 1)))
    payload = answer.json()["data"]["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert payload["userErrors"] == [{"field": ["input", "quantities", "1", "compareQuantity"],
                                      "message": "The compareQuantity argument no longer matches the persisted quantity.",
                                      "code": "COMPARE_QUANTITY_STALE"}]
    assert shop.available(shop.inventory_item_id(first), location) == held_first  # nothing applied
    assert shop.inventory_changes == []


def test_user_errors_for_each_documented_code(shop: ShopifySandbox, world: World) -> None:
    sku = world.skus[4]
    held = shop.available(shop.inventory_item_id(sku), shop.location_id("01"))
    good = quantity(shop, sku, 3, held)
    cases = [
        ({**good, "compareQuantity": None}, "COMPARE_QUANTITY_REQUIRED", ["input", "quantities", "0", "compareQuantity"]),
        ({**good, "inventoryItemId": "gid://shopify/InventoryItem/1"}, "INVALID_INVENTORY_ITEM",
         ["input", "quantities", "0", "inventoryItemId"]),
        ({**good, "locationId": "gid://shopify/Location/1"}, "INVALID_LOCATION", ["input", "quantities", "0", "locationId"]),
        ({**good, "quantity": -1}, "INVALID_QUANTITY_NEGATIVE", ["input", "quantities", "0", "quantity"]),
        ({**good, "quantity": 1_000_000_001}, "INVALID_QUANTITY_TOO_HIGH", ["input", "quantities", "0", "quantity"]),
    ]
    for given, code, field in cases:
        errors = graphql(shop, SET_AVAILABLE, set_input(given)).json()["data"]["inventorySetQuantities"]["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [(code, field)]
    duplicate = graphql(shop, SET_AVAILABLE, set_input(good, good)).json()["data"]["inventorySetQuantities"]["userErrors"]
    assert [e["code"] for e in duplicate] == ["NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"]
    bad_reason = graphql(shop, SET_AVAILABLE, set_input(good, reason="because")).json()["data"]["inventorySetQuantities"]
    assert [(e["code"], e["field"]) for e in bad_reason["userErrors"]] == [("INVALID_REASON", ["input", "reason"])]
    ignored = graphql(shop, SET_AVAILABLE, set_input({**good, "compareQuantity": None}, ignoreCompareQuantity=True))
    assert ignored.json()["data"]["inventorySetQuantities"]["userErrors"] == []
    assert shop.available(shop.inventory_item_id(sku), shop.location_id("01")) == 3


def test_more_than_250_quantities_is_a_request_error(shop: ShopifySandbox, world: World) -> None:
    many = [quantity(shop, world.skus[i % len(world.skus)], 1, 0) for i in range(251)]
    body = graphql(shop, SET_AVAILABLE, set_input(*many)).json()
    assert "data" not in body and body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert "251" in body["errors"][0]["message"] and shop.inventory_changes == []
    mistyped = graphql(shop, SET_AVAILABLE, set_input({**many[0], "quantity": "5"})).json()
    assert mistyped["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"


def test_every_graphql_answer_reports_its_cost(shop: ShopifySandbox, world: World) -> None:
    sku = world.skus[5]
    held = shop.available(shop.inventory_item_id(sku), shop.location_id("01"))
    answer = graphql(shop, SET_AVAILABLE, set_input(quantity(shop, sku, held, held)))
    cost = answer.json()["extensions"]["cost"]
    assert cost["requestedQueryCost"] == cost["actualQueryCost"] == 10
    assert cost["throttleStatus"] == {"maximumAvailable": 1000.0, "currentlyAvailable": 1000, "restoreRate": 50.0}
    assert "X-Shopify-Shop-Api-Call-Limit" not in answer.headers  # the REST bucket is separate


def test_cost_bucket_throttles_with_shopifys_body(world: World) -> None:
    with ShopifySandbox(world, access_token=TOKEN, cost_bucket_size=25, cost_restore_rate=0.01) as sandbox:
        sku = world.skus[6]
        held = sandbox.available(sandbox.inventory_item_id(sku), sandbox.location_id("01"))
        answers = [graphql(sandbox, SET_AVAILABLE, set_input(quantity(sandbox, sku, held, held))) for _ in range(3)]
    assert [a.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] for a in answers] == [15, 5, 5]
    throttled = answers[2]
    assert throttled.status_code == 200 and sandbox.throttled_calls == 1
    assert throttled.json() == {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED",
                                                           "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
        "extensions": {"cost": {"requestedQueryCost": 10, "actualQueryCost": None, "throttleStatus": {
            "maximumAvailable": 25.0, "currentlyAvailable": 5, "restoreRate": 0.01}}}}
    assert len(sandbox.inventory_changes) == 2


def test_graphql_auth_and_fault_switches(shop: ShopifySandbox, world: World) -> None:
    sku = world.skus[7]
    held = shop.available(shop.inventory_item_id(sku), shop.location_id("01"))
    variables = set_input(quantity(shop, sku, held + 1, held))
    rejected = graphql(shop, SET_AVAILABLE, variables, token="shpat_wrong")
    assert rejected.status_code == 401 and rejected.json()["errors"].startswith("[API] Invalid API key")
    shop.faults.rate_limit, shop.faults.path_contains = 1, "/graphql.json"
    assert graphql(shop, SET_AVAILABLE, variables).json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    shop.faults.server_error = 1
    assert graphql(shop, SET_AVAILABLE, variables).status_code == 500
    assert shop.inventory_changes == []
    shop.faults.malformed = 1
    cut = graphql(shop, SET_AVAILABLE, variables)
    with pytest.raises(ValueError):
        cut.json()
    assert shop.available(shop.inventory_item_id(sku), shop.location_id("01")) == held + 1  # applied, answer lost
    unknown = graphql(shop, "{ shop { name } }", {}).json()
    assert unknown["errors"][0]["extensions"]["code"] == "undefinedField"


# -- the official client (ShopifyAPI) pointed at the sandbox ---------------------------------------------
@pytest.fixture
def client(shop: ShopifySandbox) -> Iterator[Any]:
    """``import shopify`` against the sandbox. The client builds ``<shop>.<myshopify_domain>:<port>``;
    shop ``127`` on domain ``0.0.1`` is 127.0.0.1, the sandbox's host."""
    shopify.Session.setup(protocol="http", myshopify_domain="0.0.1", port=shop.base_url.rsplit(":", 1)[1])
    shopify.ShopifyResource.activate_session(shopify.Session("127", "2024-07", TOKEN))
    yield shopify
    shopify.ShopifyResource.clear_session()
    shopify.Session.setup(protocol="https", myshopify_domain="myshopify.com", port=None)


def test_client_finds_single_objects_and_404s_like_shopify(client: Any, shop: ShopifySandbox, world: World) -> None:
    source = next(o for o in shop.orders() if o.refunds)
    order = client.Order.find(source.id)
    assert (order.id, order.total_price, order.currency) == (source.id, f"{source.total:.2f}", source.currency)
    assert [line.sku for line in order.line_items] == [line.sku.code for line in source.lines]
    assert datetime.fromisoformat(order.updated_at) == source.updated_at
    product = client.Product.find(shop.products[0].id)
    assert sorted(v.sku for v in product.variants) == sorted(s.code for s in shop.products[0].skus)
    customer = world.customers[3]
    assert client.Customer.find(customer.id).email == customer.email
    with pytest.raises(ResourceNotFound):
        client.Order.find(1)
    missing = get(shop, "customers/1")
    assert missing.status_code == 404 and missing.json() == {"errors": "Not Found"}
    assert set(get(shop, f"orders/{source.id}", fields="id,name").json()["order"]) == {"id", "name"}


def test_client_reads_an_orders_refunds(client: Any, shop: ShopifySandbox) -> None:
    source = next(o for o in shop.orders() if o.refunds)
    refunds = client.Refund.find(order_id=source.id)
    assert [(r.id, r.transactions[0].amount) for r in refunds] == [(r.id, f"{r.amount:.2f}") for r in source.refunds]
    one = client.Refund.find(source.refunds[0].id, order_id=source.id)
    assert one.order_id == source.id
    assert get(shop, f"orders/{source.id}/refunds/1").status_code == 404
    assert get(shop, "orders/1/refunds").json() == {"errors": "Not Found"}


def test_counts_apply_the_list_filters(client: Any, shop: ShopifySandbox, world: World) -> None:
    orders = shop.orders()
    assert client.Order.count(status="any") == len(orders)
    assert client.Order.count() == len(get(shop, "orders", limit=250).json()["orders"])  # status defaults to open
    assert client.Product.count() == len(shop.products) and client.Customer.count() == len(world.customers)
    pivot = sorted(o.updated_at for o in orders)[len(orders) // 2]
    assert client.Order.count(status="any", updated_at_min=pivot.isoformat(), since_id=orders[0].id) == sum(
        o.updated_at >= pivot and o.id > orders[0].id for o in orders)
    assert get(shop, "orders/count", status="weird").status_code == 400


def test_every_documented_time_form_is_read_in_the_shops_zone(client: Any, shop: ShopifySandbox) -> None:
    orders = shop.orders()
    # a day on which some order falls between UTC's midnight and the shop's (New York's, later)
    day = next(o.updated_at.astimezone(UTC).date() for o in orders
               if o.updated_at.astimezone(UTC).date() != o.updated_at.astimezone(shop.zone).date())
    midnight = datetime.combine(day, time(), shop.zone)  # the shop's midnight, not UTC's
    expected = sum(o.updated_at >= midnight for o in orders)
    forms = [day.isoformat(), f"{day}T00:00:00", midnight.isoformat(),
             midnight.astimezone(UTC).isoformat().replace("+00:00", "Z")]
    assert [client.Order.count(status="any", updated_at_min=form) for form in forms] == [expected] * 4
    assert expected != sum(o.updated_at >= datetime.combine(day, time(), UTC) for o in orders)
    listed = get(shop, "orders", limit=250, status="any", updated_at_min=day.isoformat(), order="updated_at asc")
    assert len(listed.json()["orders"]) == expected
    assert get(shop, "orders", updated_at_min="yesterday").json() == {"errors": {"updated_at_min": "Invalid value."}}


def test_client_pages_through_orders_with_link_headers(client: Any, shop: ShopifySandbox) -> None:
    page, seen = client.Order.find(limit=50, status="any"), []
    while True:
        seen += [order.id for order in page]
        if not page.has_next_page():
            break
        page = page.next_page()
    assert sorted(seen) == sorted(o.id for o in shop.orders())


def test_client_reads_destroy_events_with_shopify_sized_ids(client: Any, world: World) -> None:
    with ShopifySandbox(world, access_token=TOKEN, rate_limiting=False) as sandbox:
        client.Session.setup(port=sandbox.base_url.rsplit(":", 1)[1])
        client.ShopifyResource.activate_session(client.Session("127", "2024-07", TOKEN))
        victims = [o.id for o in sandbox.orders()[:2]]
        made = [sandbox.delete_order(order_id) for order_id in victims]
        events = client.Event.find(filter="Order", verb="destroy")
        assert [(e.id, e.subject_id) for e in events] == [(e.id, e.subject_id) for e in made]
        assert all(e.id > 1.2e13 for e in events) and made[1].id == made[0].id + 1
        assert client.Event.count(filter="Order") == 2
        assert [e.id for e in client.Event.find(resource="orders", resource_id=victims[1])] == [made[1].id]
        assert client.Event.find(resource="products", resource_id=victims[1]) == []
        assert get(sandbox, f"orders/{victims[0]}").status_code == 404


@pytest.mark.parametrize(("asked", "served"), [("2024-07", "2024-07"), ("2025-04", "2025-04"),
                                               ("unstable", "unstable"), ("2023-01", "2024-07"),
                                               ("2030-01", "2024-07"), ("latest", "2024-07")])
def test_the_requested_version_is_echoed_or_falls_forward(shop: ShopifySandbox, asked: str, served: str) -> None:
    response = get(shop, f"{shop.base_url}/admin/api/{asked}/shop.json")
    assert response.status_code == 200 and response.headers["X-Shopify-API-Version"] == served


def test_client_sees_the_version_it_asked_for(client: Any, shop: ShopifySandbox) -> None:
    client.ShopifyResource.activate_session(client.Session("127", "2024-10", TOKEN))
    client.Shop.current()
    headers = {name.lower(): value for name, value in client.ShopifyResource.connection.response.headers.items()}
    assert headers["x-shopify-api-version"] == "2024-10"


def test_connections_are_kept_alive(shop: ShopifySandbox) -> None:
    """Shopify keeps HTTP/1.1 connections open; only a client asking ``Connection: close`` (urllib,
    under ShopifyAPI, does) gets it back."""
    connection = http.client.HTTPConnection(shop.base_url.removeprefix("http://"), timeout=10)
    answers, sockets = [], []
    for _ in range(3):
        connection.request("GET", "/admin/api/2024-07/shop.json", headers={"X-Shopify-Access-Token": TOKEN})
        answer = connection.getresponse()
        answer.read()
        answers.append(answer.getheader("Connection"))
        sockets.append(connection.sock)
    assert answers == [None] * 3 and sockets[0] is not None and len(set(map(id, sockets))) == 1
    connection.request("GET", "/admin/api/2024-07/shop.json",
                       headers={"X-Shopify-Access-Token": TOKEN, "Connection": "close"})
    assert connection.getresponse().getheader("Connection") == "close"
