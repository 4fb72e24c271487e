"""Data Docs that work offline: every page points at bundled copies of its styles and scripts.

GX's templates link Bootstrap, jQuery, bootstrap-table and Font Awesome on CDNs, plus vega, a date
picker and a dark-mode sheet the validation pages never use. Users of this hub are often offline or
behind a firewall, so after each build the pages are rewritten: known assets to ``static/vendor/``
(copied from ``data_docs_assets/``), the unused ones removed, GX's remote logo to its local copy.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

ASSETS = Path(__file__).with_name("data_docs_assets")
VENDOR = Path("static") / "vendor"
# The CDN file name in a GX template -> the bundled file.
LOCAL = {"bootstrap.min.css": "bootstrap.min.css", "bootstrap.min.js": "bootstrap.min.js",
         "jquery-3.7.1.min.js": "jquery.min.js", "popper.min.js": "popper.min.js",
         "bootstrap-table.min.css": "bootstrap-table.min.css", "bootstrap-table.min.js": "bootstrap-table.min.js",
         "bootstrap-table-filter-control.min.css": "bootstrap-table-filter-control.min.css",
         "bootstrap-table-filter-control.min.js": "bootstrap-table-filter-control.min.js",
         "all.min.css": "fontawesome/css/all.min.css"}
SCRIPT = re.compile(r'<script\b[^>]*\bsrc="(https?://[^"]+)"[^>]*>\s*</script>')
STYLESHEET = re.compile(r'<link\b[^>]*\bhref="(https?://[^"]+)"[^>]*>')
LOGO = re.compile(r'https://great-expectations-web-assets[^"\']*/([\w-]+\.png)[^"\']*')


def _local(url: str) -> str | None:
    return LOCAL.get(url.split("?")[0].rstrip("/").rsplit("/", 1)[-1])


def _rewrite(html: str, prefix: str) -> str:
    def script(match: re.Match[str]) -> str:
        name = _local(match[1])
        return f'<script src="{prefix}{VENDOR.as_posix()}/{name}"></script>' if name else ""

    def stylesheet(match: re.Match[str]) -> str:
        if "stylesheet" not in match[0]:
            return match[0]
        name = _local(match[1])
        return f'<link rel="stylesheet" href="{prefix}{VENDOR.as_posix()}/{name}">' if name else ""

    html = SCRIPT.sub(script, html)
    html = STYLESHEET.sub(stylesheet, html)
    return LOGO.sub(lambda match: f"{prefix}static/images/{match[1]}", html)


def make_offline(site: Path) -> None:
    """Bundle the assets into ``site`` and point every page at them."""
    shutil.copytree(ASSETS, site / VENDOR, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.md"))
    for page in site.rglob("*.html"):
        depth = os.path.relpath(site, page.parent)
        prefix = "" if depth == "." else f"{Path(depth).as_posix()}/"
        html = page.read_text(encoding="utf-8")
        rewritten = _rewrite(html, prefix)
        if rewritten != html:
            page.write_text(rewritten, encoding="utf-8")
