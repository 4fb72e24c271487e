"""Reminders and alerts: after each build (and stock push) the rules of ``alerts:`` in channelhub.yml
are evaluated on the marts and ops tables, recorded in ``ops.alerts`` and sent to the destinations
configured: each alert once when it opens, as a reminder while it stays open, and once when it is
resolved. ``channelhub alerts`` lists them; ``channelhub alerts check`` evaluates and sends, as the
Airflow tasks do."""

from typing import Any

from .config import RULES, AlertsConfig, Destination

__all__ = ["RULES", "SETTLED", "Alert", "AlertReport", "AlertsConfig", "Destination", "check_alerts",
           "list_alerts", "message_for"]

# Evaluating needs the warehouse (SQLAlchemy, dlt); the config only needs the rules, so the rest loads on
# first use and reading channelhub.yml stays fast.
_LAZY = {"SETTLED": "checks", "Alert": "store", "AlertReport": "evaluate", "check_alerts": "evaluate",
         "list_alerts": "evaluate", "message_for": "evaluate"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
