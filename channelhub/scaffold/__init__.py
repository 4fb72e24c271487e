"""``channelhub connector new``: a new connector that passes the contract before its first edit.

One call writes the connector package (declaration, settings, client, README, staging model), its
sandbox, its test module and both entry points, from the templates of a style (:data:`STYLES`,
``templates/<style>/``,
falling back to ``templates/common/`` for what every style shares). The generated code is
the style's smallest complete example on the SDK and the sandbox kit; the integration engineer then
replaces the generated API shapes with the documented ones, keeping the contract green.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from connectors.sdk import ConfigError, ConnectorKind

TEMPLATES = Path(__file__).parent / "templates"
# style -> what it generates (the CLI's help); each has templates/<style>/
STYLES = {
    "rest": "declarative REST on dlt's rest_api",
    "gateway": "a signed gateway: TOP, JD, Pinduoduo",
    "file": "files in a folder read per declared stream: exports, drop shares",
    "sql": "tables of a database read directly: ERPs, in-store systems",
}
NAME = re.compile(r"[a-z][a-z0-9_]*")
ENTRY_POINTS = {"channelhub.connectors": "connectors.{name}:connector", "channelhub.sandboxes": "sandbox.{name}:LAUNCHER"}

# template -> where it goes under the project root
LAYOUT = {
    "connector__init__.py": "connectors/{name}/__init__.py",
    "settings.py": "connectors/{name}/settings.py",
    "client.py": "connectors/{name}/client.py",
    "connector.py": "connectors/{name}/connector.py",
    "README.md": "connectors/{name}/README.md",
    "sources.yml": "connectors/{name}/models/staging/{name}/_{name}__sources.yml",
    "stg_records.sql": "connectors/{name}/models/staging/{name}/stg_{name}__records.sql",
    "sandbox.py": "sandbox/{name}.py",
    "test.py": "tests/connectors/test_{name}.py",
}


@dataclass(frozen=True)
class NewConnector:
    name: str
    kind: ConnectorKind
    style: str = "rest"

    def __post_init__(self) -> None:
        if not NAME.fullmatch(self.name):
            raise ConfigError(f"connector name {self.name!r}: lower-case letters, digits and _, starting with a letter")
        if self.style not in STYLES:
            raise ConfigError(f"style {self.style!r}: templates exist for {', '.join(STYLES)}")

    @property
    def values(self) -> dict[str, str]:
        title = self.name.replace("_", " ").title()
        return {"name": self.name, "Name": title.replace(" ", ""), "NAME": self.name.upper(), "title": title,
                "kind": self.kind.value, "KIND": self.kind.name,
                "description": f"a {self.kind.value} connector generated in the {self.style} style."}

    def write(self, root: Path) -> list[Path]:
        """Write every file under ``root`` (the project: ``connectors/``, ``sandbox/``, ``tests/``,
        ``pyproject.toml``) and return them. Nothing is written when a file already exists."""
        targets = {template: root / path.format(name=self.name) for template, path in LAYOUT.items()}
        existing = [str(path.relative_to(root)) for path in targets.values() if path.exists()]
        if existing:
            raise ConfigError(f"connector {self.name!r} exists already: {', '.join(existing)}")
        pyproject = root / "pyproject.toml"
        registered = _with_entry_points(pyproject.read_text(encoding="utf-8"), self.name)
        for template, target in targets.items():
            own = TEMPLATES / self.style / f"{template}.tmpl"
            text = Template((own if own.exists() else TEMPLATES / "common" / f"{template}.tmpl").read_text(encoding="utf-8"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text.substitute(self.values), encoding="utf-8")
        pyproject.write_text(registered, encoding="utf-8")
        return [*targets.values(), pyproject]


def _with_entry_points(pyproject: str, name: str) -> str:
    """``pyproject`` with the connector's line appended to each entry-point group's table."""
    lines = pyproject.splitlines(keepends=True)
    for group, target in ENTRY_POINTS.items():
        header = f'[project.entry-points."{group}"]\n'
        if header not in lines:
            raise ConfigError(f"pyproject.toml has no {header.strip()} table")
        end = lines.index(header) + 1
        while end < len(lines) and lines[end].strip() and not lines[end].startswith("["):
            if lines[end].split("=")[0].strip() == name:
                raise ConfigError(f"pyproject.toml registers {name!r} under {group} already")
            end += 1
        lines.insert(end, f'{name} = "{target.format(name=name)}"\n')
    return "".join(lines)
