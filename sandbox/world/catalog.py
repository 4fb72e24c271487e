"""What the merchant sells and to whom: SKUs (the merchant SKU every system shares, prices in USD at
fixed rates) and customers."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from iso4217 import Currency

CENT = Decimal("0.01")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# Fixed rates keep prices exact and reproducible: price in shop currency = base USD price * rate.
RATES = {"USD": Decimal(1), "EUR": Decimal("0.92"), "GBP": Decimal("0.79"), "CNY": Decimal("7.20"),
         "JPY": Decimal(150), "KWD": Decimal("0.307")}
FIRST_NAMES = ["Ada", "Bo", "Chen", "Dana", "Eli", "Fang", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lin", "Mei",
               "Noa", "Omar", "Pia", "Qi", "Rui", "Sam", "Tao", "Uma", "Vic", "Wei", "Xin", "Yan", "Zoe"]
LAST_NAMES = ["Li", "Wang", "Smith", "Garcia", "Müller", "Rossi", "Zhang", "Dubois", "Kim", "Novak", "Chen"]
PRODUCTS = [("Tee", "T恤"), ("Hoodie", "连帽衫"), ("Mug", "马克杯"), ("Cap", "棒球帽"), ("Tote", "帆布袋"),
            ("Socks", "袜子"), ("Poster", "海报"), ("Notebook", "笔记本"), ("Bottle", "水杯"), ("Scarf", "围巾")]
VARIANTS = ["S", "M", "L", "XL"]


def quantum(currency: str) -> Decimal:
    """The currency's smallest amount, by its ISO 4217 minor unit: 1 JPY, 0.001 KWD, 0.01 most others."""
    return Decimal(1).scaleb(-Currency(currency.upper()).exponent)


@dataclass(slots=True)
class Sku:
    index: int
    code: str            # the merchant SKU, shared by every system
    product: str
    product_zh: str
    variant: str
    base_price: Decimal  # USD
    barcode: str
    modified_at: datetime

    def price(self, currency: str) -> Decimal:
        return (self.base_price * RATES[currency]).quantize(quantum(currency))


@dataclass(slots=True)
class Customer:
    id: int
    email: str
    phone: str
    first_name: str
    last_name: str
    created_at: datetime
    updated_at: datetime
    # (email, phone) as the ERP keeps them when it differs from the web shops (plant_erp_contacts);
    # None: the same
    erp_contact: tuple[str, str] | None = None

    @property
    def in_erp(self) -> tuple[str, str]:
        return self.erp_contact or (self.email, self.phone)


def make_sku(i: int, rng: random.Random) -> Sku:
    product, product_zh = PRODUCTS[(i // len(VARIANTS)) % len(PRODUCTS)]
    return Sku(index=i, code=f"CH-{i // len(VARIANTS):04d}-{VARIANTS[i % len(VARIANTS)]}",
               product=f"{product} {i // len(VARIANTS):04d}", product_zh=f"{product_zh}{i // len(VARIANTS):04d}",
               variant=VARIANTS[i % len(VARIANTS)],
               base_price=Decimal(rng.randrange(500, 12_000)) / 100,
               barcode=f"69{rng.randrange(10**10, 10**11)}", modified_at=EPOCH)


def make_customer(i: int, rng: random.Random) -> Customer:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    created = EPOCH + timedelta(minutes=i)
    return Customer(id=100_000 + i, email=f"{first}.{last}{i}@example.com".lower(),
                    phone=f"+86 138 {i:04d} {rng.randrange(10000):04d}", first_name=first,
                    last_name=last, created_at=created, updated_at=created)


ERP_CONTACT_KINDS = ("erp_phone_with_00", "erp_phone_national")


def plant_erp_contacts(customers: list[Customer], seed: int) -> dict[str, frozenset[int]]:
    """A few customers the ERP keeps with no email and the phone written otherwise: with the ``00``
    international prefix (``0086 138…``) or without the country code (``138…``, read as Chinese by an
    ERP in China). Each is still the web customer with that phone (``+86 138…``). From a random stream
    of its own; returns kind -> customer ids (none in worlds of under 20 customers)."""
    if len(customers) < 20:
        return dict.fromkeys(ERP_CONTACT_KINDS, frozenset())
    rng = random.Random(f"{seed}:erp-contacts")
    chosen = rng.sample(customers, k=2 * len(ERP_CONTACT_KINDS))
    for customer in chosen[:2]:
        customer.erp_contact = ("", "0086 " + customer.phone.removeprefix("+86 "))
    for customer in chosen[2:]:
        customer.erp_contact = ("", customer.phone.removeprefix("+86 "))
    return {"erp_phone_with_00": frozenset(c.id for c in chosen[:2]),
            "erp_phone_national": frozenset(c.id for c in chosen[2:])}
