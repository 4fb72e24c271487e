"""Declarative REST connectors on dlt's ``rest_api``: what dlt lacks, and the one way a :class:`Stream`
declaration becomes a ``rest_api`` resource.

A REST connector declares its streams, a client (base URL, auth, paginator, the retrying session) and
one endpoint per stream; :func:`rest_source` turns that into a dlt source with the stream's key,
disposition, declared column types and cursor applied the same way for every connector.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dlt
import requests
from dlt.common.configuration import configspec
from dlt.extract import DltResource, Incremental
from dlt.extract.items_transform import ItemTransform
from dlt.extract.source import DltSource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import AuthConfigBase
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from dlt.sources.rest_api import rest_api_source
from dlt.sources.rest_api.config_setup import (
    create_auth,
    create_paginator,
    create_response_hooks,
    paginate_resource,
    setup_incremental_object,
)
from requests_oauthlib import OAuth1

from .http import RESIGN, readable_pages
from .spec import Stream


class TotalPagesHeaderPaginator(PageNumberPaginator):
    """``page=N`` paging that stops at the page count a response header gives (WordPress and
    WooCommerce: ``X-WP-TotalPages``), so no empty page is requested after the last one."""

    def __init__(self, header: str = "X-WP-TotalPages", page_param: str = "page") -> None:
        super().__init__(base_page=1, page=1, page_param=page_param, total_path=None, stop_after_empty_page=True)
        self.header = header

    def update_state(self, response: requests.Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        pages = response.headers.get(self.header)
        if pages is not None and pages.isdigit() and self.current_value > int(pages):
            self._has_next_page = False


@configspec
class OAuth1QueryAuth(AuthConfigBase):
    """One-legged OAuth 1.0a with the ``oauth_*`` parameters in the query string (WooCommerce over plain
    http; HMAC-SHA256 unless told otherwise). oauthlib computes the signature; a fresh nonce and
    timestamp are signed into every request dlt prepares."""

    consumer_key: str = None
    consumer_secret: str = None
    signature_method: str = "HMAC-SHA256"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        signer = OAuth1(self.consumer_key, client_secret=self.consumer_secret,
                        signature_method=self.signature_method, signature_type="query")
        signed = signer(request)
        setattr(signed, RESIGN, self._resign)
        return signed

    def _resign(self, request: requests.PreparedRequest) -> None:
        """Drop the last signature's ``oauth_*`` parameters and sign again (see ``http.RESIGN``)."""
        url = urlsplit(request.url or "")
        query = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if not k.startswith("oauth_")]
        request.url = urlunsplit(url._replace(query=urlencode(query)))
        self(request)


# Keys of a resource_config that rest_source applies itself after rest_api built the resource: pipe
# steps that see whole pages or run after the incremental (rest_api's processing_steps see single
# records and run before it), and hints of further tables the resource writes.
STEPS, TABLE_VARIANTS, BATCH = "channelhub_steps", "channelhub_table_variants", "channelhub_batch_rows"


def resource_config(stream: Stream, endpoint: Mapping[str, Any], *, start_param: str | None = None,
                    end_param: str | None = None, initial_value: Any = None,
                    convert: Callable[[Any], Any] | None = None, account: str | None = None,
                    steps: Sequence[ItemTransform[Any, Any]] = (), table_variants: Sequence[dict[str, Any]] = (),
                    batch_rows: int | None = None, **extra: Any) -> dict[str, Any]:
    """The ``rest_api`` resource of one declared stream: its name, key, disposition and declared
    column types, and, for a stream with a cursor, the cursor's incremental (``Cursor.incremental_args``)
    sent to the API as ``start_param`` (and ``end_param``), each value through ``convert`` first. With
    ``account``, every page is read through :func:`readable_pages` after the endpoint's own actions.
    ``steps`` are added to the resource's pipe where their placement puts them (``Columnar.steps``: the
    Arrow fast path); ``table_variants`` are the dlt hints of other tables it writes (child tables).
    With ``batch_rows``, consecutive pages reach the pipe joined into batches of at least that many
    records (see :func:`paginate_in_batches`)."""
    config: dict[str, Any] = {**stream.resource_hints(), "endpoint": dict(endpoint), **extra,
                              STEPS: list(steps), TABLE_VARIANTS: list(table_variants), BATCH: batch_rows}
    if account is not None:
        actions = [*endpoint.get("response_actions", []), readable_pages(account, stream.name)]
        config["endpoint"]["response_actions"] = actions
    if stream.cursor is not None:
        incremental = {key: list(value) if key == "primary_key" else value  # rest_api validates a list
                       for key, value in stream.cursor.incremental_args(initial_value).items() if value is not None}
        config["endpoint"]["incremental"] = {**incremental, "start_param": start_param, "end_param": end_param,
                                             "convert": convert}
    return config


def rest_source(name: str, client: Mapping[str, Any], resources: list[dict[str, Any] | DltResource],
                **defaults: Any) -> DltSource:
    """A dlt ``rest_api`` source: ``client`` (base_url, auth, paginator, session) and the resources
    :func:`resource_config` declared, with their own pipe steps and table variants applied. Resources
    built otherwise (a gateway's windowed listing) pass through as they are."""
    resources = [dict(r) if isinstance(r, Mapping) else r for r in resources]
    extras = {resource["name"]: (resource.pop(STEPS, []), resource.pop(TABLE_VARIANTS, []))
              for resource in resources if isinstance(resource, dict)}
    resources = [_batched_resource(resource, client, batch)
                 if isinstance(resource, dict) and (batch := resource.pop(BATCH, None)) else resource
                 for resource in resources]
    source = rest_api_source({"client": dict(client), "resource_defaults": defaults, "resources": resources},
                             name=name)
    for resource_name, (steps, variants) in extras.items():
        resource = source.resources[resource_name]
        for step in steps:
            resource.add_step(step)
        for hints in variants:  # a variant starts as a copy of the resource's hints: its columns are its own
            resource.apply_hints(create_table_variant=True, table_name=hints["table_name"], columns={})
            resource.apply_hints(create_table_variant=True, **hints)
    return source


def paginate_in_batches(batch_rows: int, incremental_object: Incremental[Any] | None = None,
                        **request: Any) -> Iterator[list[Any]]:
    """``rest_api``'s own paging of one endpoint (its ``paginate_resource``: incremental parameters,
    paginator, hooks), with consecutive pages joined into batches of at least ``batch_rows`` records.
    dlt does a fixed amount of work for every item it extracts as Arrow (computing and checking the
    table's schema: about 5 ms a table), which at Shopify's 250-record pages, split into six tables,
    cost more than converting the records."""
    batch: list[Any] = []
    for page in paginate_resource(incremental_object=incremental_object, **request):
        batch.extend(page)
        if len(batch) >= batch_rows:
            yield batch
            batch = []
    if batch:
        yield batch


def _batched_resource(config: dict[str, Any], client: Mapping[str, Any], batch_rows: int) -> DltResource:
    """The resource ``rest_api`` would build from ``config`` (an endpoint without dependencies), reading
    through :func:`paginate_in_batches`, built with the same ``rest_api`` helpers."""
    endpoint = config["endpoint"]
    params = dict(endpoint.get("params", {}))
    incremental, incremental_param, transform = setup_incremental_object(params, endpoint.get("incremental"))
    rest_client = RESTClient(base_url=client["base_url"], headers=client.get("headers"),
                             auth=create_auth(endpoint.get("auth", client.get("auth"))),
                             paginator=create_paginator(client.get("paginator")), session=client.get("session"))
    hints = {key: value for key, value in config.items() if key not in ("endpoint", "processing_steps")}
    resource = dlt.resource(paginate_in_batches, **hints)(
        batch_rows, incremental_object=incremental, method=endpoint.get("method", "GET"), path=endpoint["path"],
        headers=endpoint.get("headers"), params=params, json=None, data=None,
        paginator=create_paginator(endpoint.get("paginator")), data_selector=endpoint.get("data_selector"),
        hooks=create_response_hooks(endpoint.get("response_actions")), client=rest_client,
        incremental_param=incremental_param, incremental_cursor_transform=transform)
    for step in config.get("processing_steps", []):  # per record, as rest_api applies them
        if "filter" in step:
            resource.add_filter(step["filter"])
        if "map" in step:
            resource.add_map(step["map"])
    return resource
