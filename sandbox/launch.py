"""How a sandbox is started for one account: the contract between ``channelhub sandbox serve`` (and the
demo and tests) and each emulator.

Every sandbox module exposes a :class:`Launcher` under the ``channelhub.sandboxes`` entry-point group,
named like the connector it emulates. A launcher reads only the account's plain settings mapping, so a
sandbox never imports connector or app code and one misunderstanding cannot pass on both sides.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from .world import World


class SandboxSetupError(ValueError):
    """The account's settings cannot be served by this sandbox (e.g. its base_url is not local)."""


@dataclass
class Running:
    account: str
    connector: str
    where: str
    stop: Callable[[], None]
    sandbox: object = None  # the emulator itself, for tests that mutate or inspect it


@dataclass(frozen=True)
class Launcher:
    """``start(world, account, settings, credentials)`` serves ``world`` where ``settings`` point and
    accepts ``credentials`` (secret name -> value). ``credential_prefixes``: how the platform's
    credentials look per secret (``{"access_token": "shpat_"}``), so generated ones pass the
    connector's format checks. ``make_credential``: for a platform whose credentials are not tokens (Alipay's and
    WeChat Pay's RSA keys), a fresh one for a secret name, instead of a prefix and random hex."""

    start: Callable[[World, str, Mapping[str, Any], Mapping[str, str]], Running]
    credential_prefixes: Mapping[str, str] = field(default_factory=dict)
    make_credential: Callable[[str], str] | None = None

    def new_credential(self, secret: str) -> str:
        if self.make_credential is not None:
            return self.make_credential(secret)
        return self.credential_prefixes.get(secret, "") + secrets.token_hex(16)


def local_port(account: str, settings: Mapping[str, Any]) -> int:
    """The port of the account's ``base_url``, which must point at this machine to be served."""
    url = urlparse(str(settings.get("base_url", "")))
    if url.hostname not in {"127.0.0.1", "localhost"} or not url.port:
        raise SandboxSetupError(f"account {account!r}: settings field 'base_url' must be http://127.0.0.1:<port> "
                                "to be served by a sandbox")
    return url.port
