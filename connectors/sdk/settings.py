"""What every connector's settings model shares: strictness, time zones, retries and REST knobs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
from tenacity import RetryCallState, Retrying, stop_after_attempt, wait_exponential_jitter
from tenacity.retry import retry_base

if TYPE_CHECKING:
    from .http import RetryPolicy


class ConnectorSettings(BaseModel):
    """Base of every connector's settings model: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


TimeZoneName = Annotated[str, AfterValidator(_known_zone)]
"""An IANA zone name (``Asia/Shanghai``), checked when the config is loaded."""


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
"""A point in time given with its offset (``2024-01-01T00:00:00Z``), kept in UTC: a naive start date
would be read in whatever zone the worker runs in, so it is refused when the config is loaded."""


class RetrySettings(ConnectorSettings):
    """How hard a connector tries before a run fails; one tenacity policy shape for every source kind
    (HTTP, database, file share). Tests shrink the waits."""

    max_attempts: int = Field(8, ge=1)
    max_wait_seconds: float = Field(30.0, ge=0)

    def retrying(self, retry: retry_base, before_sleep: Callable[[RetryCallState], None] | None = None) -> Retrying:
        """A fresh policy per call site (``Retrying`` keeps per-call statistics)."""
        return Retrying(retry=retry, stop=stop_after_attempt(self.max_attempts), reraise=True,
                        wait=wait_exponential_jitter(initial=min(0.2, self.max_wait_seconds),
                                                     max=self.max_wait_seconds),
                        before_sleep=before_sleep)


class RestSettings(RetrySettings):
    """Knobs every REST connector shares; the platform's documented maximum page size is the default
    in each subclass."""

    base_url: str
    page_size: int = Field(100, ge=1)
    timeout_seconds: float = Field(30.0, gt=0)
    max_wait_seconds: float = Field(60.0, ge=0)

    def retry_policy(self) -> RetryPolicy:
        from .http import RetryPolicy  # the HTTP helpers import dlt; reading settings must not

        return RetryPolicy(max_attempts=self.max_attempts, initial_wait=min(0.5, self.max_wait_seconds),
                           max_wait=self.max_wait_seconds, timeout=self.timeout_seconds)
