"""Errors that name where bad data came from: source account, stream, record and field."""

from __future__ import annotations


class ChannelhubError(Exception):
    """Base of every error channelhub raises on purpose."""


class ConfigError(ChannelhubError):
    """channelhub.yml (or a secret it points at) is invalid."""


class SourceDataError(ChannelhubError):
    """A source returned data we cannot trust; nothing from the failing page or file is loaded."""

    def __init__(self, account: str, stream: str, reason: str, *, record: str | None = None,
                 field: str | None = None) -> None:
        self.account, self.stream, self.record, self.field, self.reason = account, stream, record, field, reason
        where = f"account {account!r}, stream {stream!r}"
        if record is not None:
            where += f", record {record}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {reason}")
