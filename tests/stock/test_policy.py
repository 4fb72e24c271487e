"""The ``stock:`` section: validation that names the field, and how overrides resolve into the
``ops.stock_policy`` rows the availability mart allocates from."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from channelhub.config import HubConfig, load_config
from channelhub.stock import policy_rows
from channelhub.stock.policy import bundle_rows, location_rows
from connectors.sdk import ConfigError

SHIPPED = Path(__file__).parents[2] / "channelhub.yml"
ACCOUNTS = {
    "shop_us": {"connector": "shopify", "settings": {"base_url": "http://127.0.0.1:1"}},
    "shop_eu": {"connector": "shopify", "settings": {"base_url": "http://127.0.0.1:2"}},
    "stripe_main": {"connector": "stripe", "settings": {"base_url": "http://127.0.0.1:3"}},
    **{name: {"connector": "jiandaoyun", "enabled": name != "jdy_off", "secrets": {"api_key": {"env": "JDY_KEY"}},
              "settings": {"app_id": "app", "forms": {"stock": {"entry_id": "stock"}},
                           **({} if name == "jdy_plain" else {"stock_writeback": {"entry_id": "mirror"}})}}
       for name in ("jdy_erp", "jdy_plain", "jdy_off")},
}


def hub(stock: dict[str, Any] | None) -> HubConfig:
    return HubConfig.model_validate({"accounts": ACCOUNTS, **({"stock": stock} if stock is not None else {})})


def config_error(tmp_path: Path, stock: dict[str, Any]) -> str:
    path = tmp_path / "channelhub.yml"
    path.write_text(yaml.safe_dump({"accounts": ACCOUNTS, "stock": stock}), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def test_shipped_config_has_a_valid_demo_policy() -> None:
    policy = load_config(SHIPPED).stock
    assert policy is not None and policy.safety_stock == 2
    assert policy.sources == ["erp_u8"]  # the demo's Guanjiapo holds the same stock: counted once
    assert {name: (c.percentage, c.floor, c.enabled) for name, c in policy.channels.items()} == {
        "shop_us": (Decimal(40), 2, True), "shop_eu": (Decimal(25), 2, True), "jd_cn": (Decimal(15), 1, True),
        "pdd_cn": (Decimal(10), 1, True), "amazon_us": (Decimal(10), 1, True)}  # 100 % in all: no unit offered twice
    assert {name: mirror.enabled for name, mirror in policy.mirrors.items()} == {"jdy_erp": True}


def test_defaults_and_rows_per_channel() -> None:
    rows = policy_rows(hub({"channels": {"shop_us": {}, "shop_eu": {"percentage": 37.5, "cap": 20, "floor": 3}},
                            "allow_overallocation": True}))
    assert rows == [
        {"channel_id": "shop_eu", "product_id": None, "safety_stock": 0, "percentage": Decimal("37.5"), "cap": 20,
         "floor": 3, "unmapped_locations": "zero"},
        {"channel_id": "shop_us", "product_id": None, "safety_stock": 0, "percentage": Decimal(100), "cap": None,
         "floor": 0, "unmapped_locations": "zero"},
    ]
    assert policy_rows(hub(None)) == []
    assert hub({"channels": {"shop_us": {}}}).stock.max_zeroed_share == 0.2


def test_overallocation_is_allowed_only_when_said_and_disabled_channels_do_not_count() -> None:
    assert hub({"channels": {"shop_us": {}, "shop_eu": {}}, "allow_overallocation": True}).stock.allow_overallocation
    assert hub({"channels": {"shop_us": {}, "shop_eu": {"enabled": False}}}).stock is not None


def test_overrides_resolve_channel_then_all_channels_then_account() -> None:
    stock = hub({
        "safety_stock": 2,
        "channels": {"shop_us": {"percentage": 60, "cap": 50, "floor": 2},
                     "shop_eu": {"percentage": 40, "floor": 1, "enabled": False}},
        "overrides": [
            {"sku": "CH-0001-M", "safety_stock": 5, "percentage": 80},          # every channel
            {"sku": "CH-0001-M", "account": "shop_eu", "percentage": 10},       # beats the line above on shop_eu
            {"sku": "CH-0002-S", "account": "shop_us", "cap": None},            # removes shop_us's cap
        ],
    })
    rows = {(r["channel_id"], r["product_id"]): (r["safety_stock"], r["percentage"], r["cap"], r["floor"])
            for r in policy_rows(stock)}
    assert rows == {
        ("shop_eu", None): (2, Decimal(40), None, 1),
        ("shop_eu", "CH-0001-M"): (5, Decimal(10), None, 1),
        ("shop_us", None): (2, Decimal(60), 50, 2),
        ("shop_us", "CH-0001-M"): (5, Decimal(80), 50, 2),
        ("shop_us", "CH-0002-S"): (2, Decimal(60), None, 2),
    }


@pytest.mark.parametrize(("stock", "expected"), [
    ({"channels": {"shop_us": {"percentage": 120}}}, "field 'stock.channels.shop_us.percentage'"),
    ({"channels": {"shop_us": {"floor": -1}}}, "field 'stock.channels.shop_us.floor'"),
    ({"channels": {"shop_us": {"cap": 1, "floor": 2}}}, "cap 1 is below floor 2"),
    ({"max_zeroed_share": 1.5, "channels": {}}, "field 'stock.max_zeroed_share'"),
    ({"channels": {"shop_us": {"percent": 50}}}, "field 'stock.channels.shop_us.percent': Extra inputs"),
    ({"overrides": [{"sku": "A"}]}, "sets none of percentage, cap, floor, safety_stock"),
    ({"overrides": [{"sku": "A", "cap": 1}, {"sku": "A", "cap": 2}]}, "sku 'A' is overridden twice for all channels"),
    ({"channels": {"shop_xx": {}}}, "channels.shop_xx: no account 'shop_xx'"),
    ({"channels": {"stripe_main": {}}}, ("channels.stripe_main: account 'stripe_main' is a payments account, "
                                        "not a sales channel")),
    ({"channels": {"shop_us": {}}, "overrides": [{"sku": "A", "account": "shop_eu", "cap": 1}]},
     "overrides[0].account: 'shop_eu' is not listed under stock.channels"),
    ({"channels": {}, "overrides": [{"sku": "A", "account": "nope", "cap": 1}]}, "overrides[0].account: no account 'nope'"),
    ({"channels": {}, "sources": ["shop_us"]}, "sources[0]: account 'shop_us' is a channel account, not an ERP keeping stock"),
    ({"channels": {}, "sources": ["erp_xx"]}, "sources[0]: no account 'erp_xx'"),
    ({"channels": {}, "sources": []}, "field 'stock.sources'"),
    ({"channels": {"shop_us": {}, "shop_eu": {"percentage": 37.5}}},
     "percentages of the channels add up to 137.5% (shop_eu 37.5, shop_us 100): the same units would be offered twice"),
    ({"channels": {"shop_us": {"percentage": 60}, "shop_eu": {"percentage": 40}},
      "overrides": [{"sku": "A", "account": "shop_us", "percentage": 70}]},
     "percentages of sku 'A' add up to 110% (shop_eu 40, shop_us 70)"),
    ({"mirrors": ["jdy_xx"]}, "mirrors.jdy_xx: no account 'jdy_xx'"),
    ({"mirrors": ["shop_us"]}, "mirrors.shop_us: connector 'shopify' of account 'shop_us' cannot mirror stock"),
    ({"mirrors": ["jdy_off"]}, ("mirrors.jdy_off: account 'jdy_off' is disabled (accounts.jdy_off.enabled is false); "
                               "remove it from stock.mirrors or set stock.mirrors.jdy_off.enabled: false")),
    ({"mirrors": ["jdy_plain"]}, "mirrors.jdy_plain: account 'jdy_plain' is not set up to mirror stock"),
    ({"mirrors": ["jdy_erp", "jdy_erp"]}, "field 'stock.mirrors': Value error, ['jdy_erp'] listed twice"),
    ({"mirrors": {"jdy_erp": {"enable": False}}}, "field 'stock.mirrors.jdy_erp.enable': Extra inputs"),
])
def test_invalid_sections_name_the_field(tmp_path: Path, stock: dict[str, Any], expected: str) -> None:
    message = config_error(tmp_path, stock)
    assert expected in message and "field 'stock" in message


def test_locations_map_to_warehouses_each_sold_once_and_counted(tmp_path: Path) -> None:
    stock = {"warehouses": ["01", "02"], "channels": {"shop_us": {"locations": {
        "Main warehouse": ["01"], "Shanghai store": ["02"]}, "unmapped_locations": "leave"}}}
    assert location_rows(hub(stock)) == [
        {"channel_id": "shop_us", "location": "Main warehouse", "warehouse_id": "01"},
        {"channel_id": "shop_us", "location": "Shanghai store", "warehouse_id": "02"}]
    assert policy_rows(hub(stock))[0]["unmapped_locations"] == "leave"
    twice = config_error(tmp_path, {"channels": {"shop_us": {"locations": {"A": ["01"], "B": ["01", "02"]}}}})
    assert "warehouse '01' is mapped to both 'A' and 'B'" in twice
    uncounted = config_error(tmp_path, {"warehouses": ["01"], "channels": {"shop_us": {"locations": {"A": ["02"]}}}})
    assert "channels.shop_us.locations.A: ['02'] not among stock.warehouses" in uncounted
    empty = config_error(tmp_path, {"channels": {"shop_us": {"locations": {"A": []}}}})
    assert "locations.A: names no warehouse" in empty
    assert "unmapped_locations" in config_error(tmp_path, {"channels": {"shop_us": {"unmapped_locations": "keep"}}})


def test_bundles_are_bills_of_materials_of_plain_skus(tmp_path: Path) -> None:
    stock = {"channels": {"shop_us": {}}, "bundles": {"KIT-1": {"CH-0000-M": 1, "CH-0002-M": 2}}}
    assert bundle_rows(hub(stock)) == [
        {"bundle_id": "KIT-1", "component_id": "CH-0000-M", "quantity": 1},
        {"bundle_id": "KIT-1", "component_id": "CH-0002-M", "quantity": 2}]
    assert "bundles.KIT-1: names no component" in config_error(tmp_path, {"bundles": {"KIT-1": {}}})
    assert "['A'] need at least 1 unit" in config_error(tmp_path, {"bundles": {"KIT-1": {"A": 0}}})
    nested = config_error(tmp_path, {"bundles": {"KIT-1": {"KIT-2": 1}, "KIT-2": {"A": 1}}})
    assert "components ['KIT-2'] are bundles themselves" in nested
