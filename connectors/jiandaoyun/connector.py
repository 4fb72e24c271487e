"""The Jiandaoyun connector: a declaration on dlt's rest_api. Each configured entity is one form read with
``data/list`` (POST JSON, ``app_id``/``entry_id`` in the body, keyset paging on ``data_id``), its widgets
renamed to fixed warehouse columns by the account's mapping and typed by kind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from dlt.extract.source import DltSource
from dlt.sources.helpers.rest_client import RESTClient
from requests import RequestException

from connectors.sdk import (
    Account,
    CheckResult,
    Connector,
    ConnectorKind,
    Cursor,
    SourceDataError,
    Stream,
    paginate_checked,
    quarantining,
)
from connectors.sdk.convert import exact_decimal
from connectors.sdk.rest import resource_config, rest_source

from .client import (
    LIST,
    Field,
    JiandaoyunError,
    MappingError,
    make_client,
    raise_for_jiandaoyun_error,
    resolve,
)
from .settings import SHIPPED, FieldKind, JiandaoyunSettings
from .stock import JiandaoyunStockWriter

# updateTime is stamped by Jiandaoyun's servers when a record is saved, in UTC; a save still committing
# while a list reads past it shows up later with an older stamp: re-read the last minute.
UPDATED = Cursor("updated_at", lag=60, dedup_on_boundary=True)
DLT_TYPES: dict[FieldKind, str] = {"decimal": "decimal", "timestamp": "timestamp"}
DESCRIPTIONS = {"products": "Products (the 商品 form): sku is the merchant SKU.",
                "stock": "Stock per SKU and warehouse (the 库存 form), replaced whole every run.",
                "customers": "Customers (the 客户 form).",
                "sales_outbound": "Sales outbound documents (the 销售出库单 form), their 出库明细 subform as the "
                                  "child table sales_outbound__lines."}
# System widgets (widget/list's sysWidgets) each row carries; asked for by name, as whether ``fields`` narrows
# them too is not documented.
SYSTEM_FIELDS = ("createTime", "updateTime")
WITH_CURRENCY = {"products"}  # the 商品 form's prices have no currency widget: the account's is stamped


def declared(entity: str) -> Stream:
    """An entity's stream: keyed by the record's ``data_id``, its typed columns declared; the stock form
    is replaced every run (its rows are few, and a row deleted in Jiandaoyun must leave)."""
    types = [("created_at", "timestamp"), ("updated_at", "timestamp"),
             *((column, DLT_TYPES[kind]) for column, (kind, _) in SHIPPED[entity].columns.items()
               if kind in DLT_TYPES and "." not in column)]
    if entity in WITH_CURRENCY:
        types.append(("currency", "text"))
    if entity == "stock":
        return Stream(entity, ("data_id",), "replace", None, DESCRIPTIONS[entity], tuple(types),
                      unique=("sku", "warehouse"), not_null=("quantity",))
    return Stream(entity, ("data_id",), "merge", UPDATED, DESCRIPTIONS[entity], tuple(types))


class JiandaoyunConnector(Connector[JiandaoyunSettings]):
    """``streams`` are the shipped entities; an account loads the ones its ``forms`` name."""

    name = "jiandaoyun"
    kind = ConnectorKind.ERP
    settings_model = JiandaoyunSettings
    streams: ClassVar[tuple[Stream, ...]] = tuple(declared(entity) for entity in SHIPPED)

    def offered_streams(self, account: Account[JiandaoyunSettings]) -> tuple[Stream, ...]:
        return tuple(stream for stream in self.streams if stream.name in account.settings.forms)

    def source(self, account: Account[JiandaoyunSettings]) -> DltSource:
        settings = account.settings
        client = make_client(settings)
        resources, converters = [], {}
        for stream in self.streams_for(account):
            form = settings.forms[stream.name]
            try:
                fields = resolve(settings, client, form, settings.labels(stream.name), SHIPPED[stream.name].form)
            except (JiandaoyunError, MappingError) as exc:  # before any page: say which stream could not start
                raise type(exc)(f"stream {stream.name!r}: {exc}") from exc
            body: dict[str, Any] = {"app_id": settings.app_of(form), "entry_id": form.entry_id, "limit": settings.page_size,
                                    "fields": [*(f.widget for column, f in fields.items() if "." not in column),
                                               *SYSTEM_FIELDS]}
            if stream.cursor is not None:
                body["filter"] = {"rel": "and", "cond": [{"field": "updateTime", "type": "datetime", "method": "range",
                                                          "value": ["{incremental.start_value}", None]}]}
            resources.append(resource_config(
                stream, {"path": LIST, "method": "POST", "json": body, "data_selector": "data",
                         "response_actions": [raise_for_jiandaoyun_error]},
                initial_value=settings.start_date, convert=iso_utc, account=account.name))
            currency = settings.currency if stream.name in WITH_CURRENCY else None
            converters[stream.name] = quarantining(converter(account.name, stream.name, fields, currency))
        source = rest_source("jiandaoyun", client, resources)
        for name, convert in converters.items():  # records are renamed before the incremental reads their cursor
            source.resources[name].add_map(convert, insert_at=1)
        return source

    def source_keys(self, account: Account[JiandaoyunSettings], stream: Stream) -> list[tuple[str]]:
        """Every ``_id`` of the stream's form, paged as the stream is, asking for one widget only: for the
        reconciliation, since a record deleted in Jiandaoyun leaves no trace in ``data/list``."""
        settings = account.settings
        form = settings.forms[stream.name]
        client = make_client(settings)
        column, mapped = next(iter(settings.labels(stream.name).items()))
        (first,) = resolve(settings, client, form, {column: mapped}, SHIPPED[stream.name].form).values()
        body = {"app_id": settings.app_of(form), "entry_id": form.entry_id, "limit": settings.page_size,
                "fields": [first.widget]}
        pages = paginate_checked(RESTClient(**client, data_selector="data"), account.name, stream.name, LIST,
                                 method="POST", json=body, hooks={"response": [raise_for_jiandaoyun_error]})
        return [(record["_id"],) for page in pages for record in page]

    def check(self, account: Account[JiandaoyunSettings]) -> CheckResult:
        """Every mapped form's widgets (``widget/list``): proves the key, the app and each form, and that
        every mapped label exists, naming the form and label that does not."""
        settings = account.settings
        client = make_client(settings)
        forms = [(SHIPPED[entity].form, form, settings.labels(entity)) for entity, form in settings.forms.items()]
        if settings.stock_writeback is not None:
            forms.append(("stock write-back", settings.stock_writeback, settings.writeback_labels()))
        try:
            for what, form, labels in forms:
                resolve(settings, client, form, labels, what)
        except (RequestException, JiandaoyunError, MappingError) as exc:
            return CheckResult(False, f"account {account.name!r}: {type(exc).__name__}: {exc}")
        return CheckResult(True, f"Jiandaoyun app {settings.app_id!r}: {len(forms)} form(s) readable, every mapped "
                                 "widget found", {"forms": [what for what, _, _ in forms]})

    def mirror_writer(self, account: Account[JiandaoyunSettings]) -> JiandaoyunStockWriter | None:
        """Mirrors channelhub's allocations to the ``stock_writeback`` form, when the account names one: an
        ERP sells nothing itself, so it is a mirror (``stock.mirrors``), never a channel pushed to."""
        return JiandaoyunStockWriter(account.name, account.settings) if account.settings.stock_writeback is not None else None


def iso_utc(when: datetime) -> str:
    """How Jiandaoyun writes and filters times: ISO 8601 in UTC with milliseconds (``2024-05-01T02:03:04.000Z``)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _utc(value: Any) -> datetime:
    return datetime.fromisoformat(str(value)).astimezone(UTC)


CASTS: dict[FieldKind, Callable[[Any], Any]] = {
    "text": lambda value: ",".join(map(str, value)) if isinstance(value, list) else str(value),
    "decimal": exact_decimal,
    "timestamp": _utc,
    # member widgets send {name, username, ...}; a multi-member widget a list of them
    "member": lambda value: ",".join(m["username"] for m in value) if isinstance(value, list) else value["username"],
    "department": lambda value: ",".join(d["name"] for d in value) if isinstance(value, list) else value["name"],
}


def converter(account: str, stream: str, fields: dict[str, Field], currency: str | None) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A record as its warehouse row: ``data_id``, the creation and update times, each mapped widget's
    value cast by kind (empty values as NULL) and a subform's rows as child rows carrying their parent's
    ``data_id``. A value its kind cannot hold fails naming the record, the label and the widget."""
    top = [f for column, f in fields.items() if "." not in column]
    children = {f.column: [c for column, c in fields.items() if column.startswith(f"{f.column}.")]
                for f in top if f.kind == "subform"}

    def cast(field: Field, value: Any, data_id: Any) -> Any:
        if value is None or value == "" or value == []:
            return None
        try:
            return CASTS[field.kind](value)
        except (TypeError, ValueError, KeyError, ArithmeticError):
            raise SourceDataError(account, stream, f"{field.kind} expected, got {value!r}", record=f"_id {data_id}",
                                  field=f"{field.label} ({field.widget})") from None

    def convert(record: dict[str, Any]) -> dict[str, Any]:
        data_id = record.get("_id")
        row: dict[str, Any] = {"data_id": data_id}
        for name, column in (("createTime", "created_at"), ("updateTime", "updated_at")):
            row[column] = cast(Field(column, name, "timestamp", name), record.get(name), data_id)
        for field in top:
            value = record.get(field.widget)
            if field.kind == "subform":
                row[field.column] = [{"line_id": line.get("_id"), "data_id": data_id,
                                      **{child.column: cast(child, line.get(child.widget), data_id)
                                         for child in children[field.column]}} for line in value or []]
            else:
                row[field.column] = cast(field, value, data_id)
        if currency is not None:
            row["currency"] = currency
        return row

    return convert
