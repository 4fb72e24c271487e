"""The HTTP client of one Jiandaoyun company: the Bearer key, the retrying session (Jiandaoyun answers
every error, throttling included, with HTTP 400 and ``{"code", "msg"}``: code 8303 is sent again), the
``data_id`` keyset paging, and reading a form's widgets to resolve the mapping's labels."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth

from connectors.sdk import ChannelhubError, retrying_session
from connectors.sdk.paging import LastRecordCursorPaginator

from .settings import FieldKind, FormSetting, JiandaoyunSettings

LIST, WIDGETS = "api/v5/app/entry/data/list", "api/v5/app/entry/widget/list"
BATCH_CREATE, BATCH_UPDATE = "api/v5/app/entry/data/batch_create", "api/v5/app/entry/data/batch_update"
# 8303: over a rate limit (the per-key QPS or an endpoint's own limit), the one code the docs show
THROTTLED = frozenset({8303})


class JiandaoyunError(ChannelhubError):
    """Jiandaoyun refused a call (HTTP 400 with its ``code`` and ``msg``)."""


class MappingError(ChannelhubError):
    """The account's mapping names a widget its form does not have."""


def error_of(response: requests.Response) -> tuple[int | None, str] | None:
    """``(code, msg)`` of an error answer, None for a success."""
    if response.ok:
        return None
    try:
        body = response.json()
    except ValueError:
        return None, f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return None, f"HTTP {response.status_code}"
    return body.get("code"), str(body.get("msg") or f"HTTP {response.status_code}")


def throttled(response: requests.Response) -> bool:
    """Code 8303 inside an HTTP 400: not executed, send again under the retry policy."""
    return response.status_code == 400 and (error_of(response) or (None, ""))[0] in THROTTLED


def raise_for_jiandaoyun_error(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """``rest_api`` response action: a refusal fails the stream naming the form, Jiandaoyun's code and message."""
    error = error_of(response) if response.status_code == 400 else None
    if error is None:
        return response
    try:
        entry = json.loads(response.request.body or b"{}").get("entry_id")
    except (ValueError, AttributeError):
        entry = None
    raise JiandaoyunError(f"Jiandaoyun refused {response.request.path_url} of form {entry!r}: code {error[0]}, "
                          f"{error[1]}")


def make_client(settings: JiandaoyunSettings) -> dict[str, Any]:
    """``rest_api``'s client: the Bearer key, paging on the last ``_id``, 8303 and 5xx retried."""
    return {"base_url": f"{settings.root}/", "auth": BearerTokenAuth(settings.api_key.get_secret_value()),
            "paginator": LastRecordCursorPaginator(settings.page_size, key="_id", cursor_body_path="data_id"),
            "session": retrying_session(settings.retry_policy(), also_retry=throttled)}


def post(settings: JiandaoyunSettings, client: dict[str, Any], path: str, body: dict[str, Any]) -> dict[str, Any]:
    """One call outside a declared stream (widgets, write-back): its JSON answer, or JiandaoyunError."""
    response = client["session"].post(f"{settings.root}/{path}", json=body, auth=client["auth"])
    error = error_of(response)
    if error is not None:
        raise JiandaoyunError(f"Jiandaoyun refused {path} of form {body.get('entry_id')!r}: code {error[0]}, {error[1]}")
    try:
        return response.json()
    except ValueError as exc:
        raise JiandaoyunError(f"the answer to {path} of form {body.get('entry_id')!r} is not valid JSON ({exc})") from exc


@dataclass(frozen=True)
class Field:
    """A mapped column resolved to its widget: the name records use, and the kind it converts as."""

    column: str
    widget: str
    kind: FieldKind
    label: str


def resolve(settings: JiandaoyunSettings, client: dict[str, Any], form: FormSetting, wanted: dict[str, tuple[FieldKind, str]],
            what: str) -> dict[str, Field]:
    """Each wanted column's widget in the form's ``widget/list``, by label or by name; the columns of a
    subform (``lines.sku``) among its ``items``. A label the form lacks fails naming it and the labels
    the form has."""
    answer = post(settings, client, WIDGETS, {"app_id": settings.app_of(form), "entry_id": form.entry_id})
    widgets = answer.get("widgets") or []
    resolved: dict[str, Field] = {}
    missing: list[str] = []
    for column, (kind, label) in wanted.items():
        parent, _, child = column.rpartition(".")
        scope = widgets
        if parent:  # a subform's widget: among the items of the subform its parent column resolved to
            owner = resolved.get(parent)
            scope = next((w.get("items") or [] for w in widgets if owner and w.get("name") == owner.widget), [])
        found = next((w for w in scope if label in (w.get("label"), w.get("name"))), None)
        if found is None:
            missing.append(f"{column} -> {label!r} (the form has: {', '.join(str(w.get('label')) for w in scope)})")
        else:
            resolved[column] = Field(child or column, str(found["name"]), kind, label)
    if missing:
        raise MappingError(f"{what} form {form.entry_id!r} has no widget {'; '.join(missing)}: fix the account's "
                           "settings (forms.<entity>.fields / stock_writeback.fields)")
    return resolved
