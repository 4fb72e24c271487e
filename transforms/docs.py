"""The model docs site: dbt docs (lineage, every model's SQL, the marts' contracts with column
descriptions and the warehouse's column types), as one self-contained HTML file beside Data Docs.

``dbt docs generate --static`` inlines the manifest and the catalog into dbt's single-page app, which
carries its scripts and styles itself: the file opens offline, from disk or any static server.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from warehouse import Hub, Warehouse

from .project import Dbt, DbtFailed


def docs_dir(hub: Hub) -> Path:
    return (hub.home / "model_docs").resolve()


def publish_docs(hub: Hub) -> Path:
    """Generate the site from the built warehouse; returns the path of its ``index.html``."""
    dbt = Dbt.for_warehouse(Warehouse(hub.warehouse_url), hub.home)
    result = dbt.invoke(["docs", "generate"], "--static")
    if not result.success:
        raise DbtFailed(f"transforms: dbt docs generate failed: {result.exception}")
    site = docs_dir(hub)
    site.mkdir(parents=True, exist_ok=True)
    index = site / "index.html"
    shutil.copyfile(dbt.work_dir / "target" / "static_index.html", index)
    return index
