"""Settings of one Jiandaoyun (简道云) company: the API key, and which forms hold what channelhub reads (the
mapping), each field named by its widget's label.

Jiandaoyun is a form builder: a merchant's 进销存 (purchase, sales and stock) app is forms the merchant
(or a template) designed, so which form is the product list, and what its fields are called, is
configuration. :data:`SHIPPED` is the default for the 进销存 template's forms; an account names each form
it loads (its ``entry_id``) and overrides only the labels its copy of the template changed::

    forms:
      products: {entry_id: 6512a0c1f2e4b2000a8b4c01, fields: {barcode: 商品条码}}
      stock: {entry_id: 6512a0c1f2e4b2000a8b4c02}
    stock_writeback: {entry_id: 6512a0c1f2e4b2000a8b4c09}   # the form channelhub mirrors its allocations to

A field is a widget's label (``商品编号``), or its name as the API knows it (``_widget_1529400746031``,
or the alias the designer gave it). Labels are resolved to names with ``widget/list`` when a run starts,
so a label the form does not have fails naming the form and the label.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator

from connectors.sdk import RestSettings, UtcDatetime

MAX_PAGE_SIZE = 100  # data/list's limit: 1 to 100
# How a widget's value becomes a column: member and department widgets send objects (the member's
# username, the department's name are kept); a subform sends rows of its own widgets (a child table).
FieldKind = Literal["text", "decimal", "timestamp", "member", "department", "subform"]
# An entry id or app id: 24 hexadecimal characters in Jiandaoyun's API.
FormId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


@dataclass(frozen=True)
class Entity:
    """One entity channelhub reads from a form: the template form it comes from, and each warehouse
    column with its kind and the label of the widget holding it (``lines.sku``: a subform's widget)."""

    form: str
    columns: dict[str, tuple[FieldKind, str]]


SHIPPED: dict[str, Entity] = {
    "products": Entity("商品", {"sku": ("text", "商品编号"), "name": ("text", "商品名称"), "spec": ("text", "规格型号"),
                              "unit": ("text", "单位"), "barcode": ("text", "条码"), "price": ("decimal", "销售单价")}),
    "stock": Entity("库存", {"sku": ("text", "商品编号"), "warehouse": ("text", "仓库"),
                           "quantity": ("decimal", "库存数量")}),
    "customers": Entity("客户", {"customer_code": ("text", "客户编号"), "name": ("text", "客户名称"),
                               "contact": ("text", "联系人"), "phone": ("text", "联系电话"),
                               "owner": ("member", "负责人")}),
    "sales_outbound": Entity("销售出库单", {
        "number": ("text", "出库单号"), "shipped_at": ("timestamp", "出库日期"), "customer_code": ("text", "客户编号"),
        "warehouse": ("text", "仓库"), "currency": ("text", "币种"), "total": ("decimal", "合计金额"), "handler": ("member", "经办人"),
        "department": ("department", "部门"), "lines": ("subform", "出库明细"), "lines.sku": ("text", "商品编号"),
        "lines.quantity": ("decimal", "数量"), "lines.price": ("decimal", "单价"), "lines.amount": ("decimal", "金额")}),
}
# The write-back form (a stock mirror): one record per SKU and sales channel, holding what channelhub
# allocates to the channel and the figures behind it (connectors.sdk.MIRROR_FIGURES).
WRITEBACK: dict[str, Label] = {"sku": "商品编号", "channel": "渠道", "allocated": "可售数量", "on_hand": "在库数量",
                               "available": "可承诺数量"}


class FormSetting(BaseModel):
    """One entity's form in this company: its ``entry_id`` (and ``app_id`` when the form lives in
    another app than the account's), and the labels the account's copy of the template changed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry_id: FormId
    app_id: FormId | None = None
    fields: dict[str, Label] = Field(default_factory=dict)


class JiandaoyunSettings(RestSettings):
    """``base_url``: ``https://api.jiandaoyun.com`` (Jodoo, the international edition:
    ``https://api.jodoo.com``); calls go to ``<base_url>/api/v5/...``. ``app_id``: the 进销存 app.
    ``forms``: the entities the account loads (any of :data:`SHIPPED`), each with its form. ``currency``: the
    currency of the 商品 form's prices (a number widget has none; 销售出库单 names its own in 币种).
    ``stock_writeback``: the form channelhub mirrors its allocations to (``stock.mirrors``)."""

    base_url: str = "https://api.jiandaoyun.com"
    app_id: FormId
    api_key: SecretStr
    forms: dict[str, FormSetting] = Field(min_length=1)
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    start_date: UtcDatetime = datetime(2020, 1, 1, tzinfo=UTC)
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    stock_writeback: FormSetting | None = None

    @model_validator(mode="after")
    def _known_entities_and_fields(self) -> Self:
        for entity, form in self.forms.items():
            if entity not in SHIPPED:
                raise ValueError(f"forms: unknown entity {entity!r} (known: {', '.join(SHIPPED)})")
            unknown = sorted(set(form.fields) - set(SHIPPED[entity].columns))
            if unknown:
                raise ValueError(f"forms.{entity}.fields: unknown field(s) {', '.join(map(repr, unknown))} of the "
                                 f"{SHIPPED[entity].form} form ({entity} has: {', '.join(SHIPPED[entity].columns)})")
        if self.stock_writeback is not None:
            unknown = sorted(set(self.stock_writeback.fields) - set(WRITEBACK))
            if unknown:
                raise ValueError(f"stock_writeback.fields: unknown field(s) {', '.join(map(repr, unknown))} "
                                 f"(has: {', '.join(WRITEBACK)})")
        return self

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")

    def labels(self, entity: str) -> dict[str, tuple[FieldKind, str]]:
        """Each column of ``entity`` with its kind and the label (or widget name) the account maps it to."""
        overrides = self.forms[entity].fields
        return {column: (kind, overrides.get(column, label)) for column, (kind, label) in SHIPPED[entity].columns.items()}

    def writeback_labels(self) -> dict[str, tuple[FieldKind, str]]:
        """Each column of the write-back form with the label the account maps it to."""
        overrides = self.stock_writeback.fields if self.stock_writeback else {}
        return {column: ("text" if column in ("sku", "channel") else "decimal", overrides.get(column, label))
                for column, label in WRITEBACK.items()}

    def app_of(self, form: FormSetting) -> str:
        return form.app_id or self.app_id
