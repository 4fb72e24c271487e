"""SQL functions the models may call that no database has, expanded when a model is rendered.

The equivalent of a dbt macro (jaffle-shop's ``cents_to_dollars``), done on the parsed SQL: a call
``from_minor_units(amount, currency)`` becomes plain SQL before the model is transpiled, so every
model that needs the rule shares one definition.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp

# Currencies without a minor unit in Stripe's integer amounts (https://docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL_CURRENCIES = ("BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
                           "VUV", "XAF", "XOF", "XPF")


def from_minor_units(amount: exp.Expression, currency: exp.Expression) -> exp.Expression:
    """An integer amount in the currency's minor unit (cents) as an exact DECIMAL(18,4) amount."""
    codes = ", ".join(f"'{code}'" for code in ZERO_DECIMAL_CURRENCIES)
    return sqlglot.parse_one(
        f"cast({amount.sql()} * case when upper({currency.sql()}) in ({codes}) then 1 else 0.01 end "
        "as decimal(18, 4))", read="duckdb")


MACROS: dict[str, Callable[..., exp.Expression]] = {"from_minor_units": from_minor_units}


def expand(tree: exp.Expression) -> exp.Expression:
    """Replace every macro call in ``tree`` by its SQL."""
    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.lower() in MACROS:
            return MACROS[node.name.lower()](*node.expressions)
        return node
    return tree.transform(replace)
