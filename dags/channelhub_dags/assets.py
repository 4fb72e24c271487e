"""Every Asset the channelhub DAGs produce or wait on, in one place.

The URIs name warehouse objects, not files: ``raw_<account>`` is the schema an ingest run loads,
``marts/<mart>`` one table of the schema BI reads. Producers yield :class:`~airflow.sdk.Metadata` with row counts, so
the Asset view in the UI shows what each update carried.
"""

from __future__ import annotations

from airflow.sdk import Asset

GROUP = "channelhub"


def raw(account: str) -> Asset:
    """The raw schema of one account, updated by its ingest DAG."""
    return Asset(name=f"raw_{account}", uri=f"channelhub://warehouse/raw_{account}", group=GROUP)


def mart(name: str) -> Asset:
    """One mart (``marts.<name>``), updated by each build that rebuilt it: BI refreshes and lineage at
    the grain BI reads."""
    return Asset(name=f"marts.{name}", uri=f"channelhub://warehouse/marts/{name}", group=GROUP)


VALIDATED = Asset(name="marts_validated", uri="channelhub://warehouse/marts/validated", group=GROUP)
"""The marts passed every critical expectation; safe to act on (stock pushes)."""
