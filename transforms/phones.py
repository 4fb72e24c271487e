"""Phone numbers in E.164, for matching people across sources: ``ops.phone_numbers``.

The same phone arrives as ``+86 138 0000 1234`` from a web shop, ``0086 13800001234`` or
``13800001234`` from an ERP: only a numbering plan knows these are one number, so Google's
libphonenumber data (the maintained ``phonenumbers`` package) reads each, in the region of the
account it came from (``ops.channels.phone_region``) when it carries no country code. SQL cannot do
that, so before every build this module reads the phones the raw tables hold (the source columns whose
YAML says ``meta: {phone: true}``) and writes each new one once, keyed the way staging writes it
(:func:`digits`, the ``phone_digits`` macro); ``int_customer_contacts`` joins it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import TZPATH

import phonenumbers
import sqlalchemy as sa

from warehouse import ensure_tables

phone_numbers = sa.Table(
    "phone_numbers", sa.MetaData(schema="ops"),
    sa.Column("channel_id", sa.String(64), nullable=False),
    sa.Column("phone", sa.String(64), nullable=False),   # as staging writes it: digits and '+'
    sa.Column("region", sa.String(2)),                   # the region it was read in
    sa.Column("e164", sa.String(16)),                    # NULL: not a possible number there
    sa.PrimaryKeyConstraint("channel_id", "phone"),
)
NOT_DIGITS = re.compile(r"[^0-9+]")


def digits(phone: str) -> str:
    """A phone as the staging models keep it (the ``phone_digits`` macro): digits and ``+`` only."""
    return NOT_DIGITS.sub("", phone)


def e164(phone: str, region: str | None) -> str | None:
    """``phone`` in E.164 (``+8613800001234``), read in ``region`` when it has no country code; None
    when it cannot be a number there (too short, letters only)."""
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@cache
def zone_regions() -> dict[str, str]:
    """IANA zone -> the ISO 3166 country it is in (the tz database's zone.tab): the default phone region
    of an account, from its time zone."""
    candidates = [Path(path) / "zone.tab" for path in TZPATH]
    try:
        candidates.append(Path(str(resources.files("tzdata").joinpath("zoneinfo", "zone.tab"))))
    except ModuleNotFoundError:
        pass
    for path in candidates:
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            return {fields[2]: fields[0] for fields in (line.split("\t") for line in lines)
                    if len(fields) >= 3 and not fields[0].startswith("#")}
    return {}


def default_region(zone: str) -> str | None:
    region = zone_regions().get(zone)
    return region if region in phonenumbers.SUPPORTED_REGIONS else None


def phone_columns(sources: Sequence[Any]) -> list[tuple[str, str, str]]:
    """(connector, table, column) of the dbt source columns declared ``meta: {phone: true}``."""
    return [(source.source_name, source.name, column.name) for source in sources
            for column in source.columns.values() if (column.meta or {}).get("phone")]


def write_phone_numbers(conn: sa.Connection, columns: Iterable[tuple[str, str, str]]) -> int:
    """Normalise every phone of the raw ``columns`` ((connector, table, column), for every account of
    that connector) not written yet, or written in another region than the account's now; returns how
    many were written."""
    ensure_tables(conn, phone_numbers)
    accounts = conn.execute(sa.text("select channel_id, platform, phone_region from ops.channels")).all()
    regions = {channel: region for channel, _, region in accounts}
    platforms = {channel: platform for channel, platform, _ in accounts}
    conn.execute(phone_numbers.delete().where(sa.or_(
        phone_numbers.c.channel_id.not_in(list(regions) or [""]),
        *(sa.and_(phone_numbers.c.channel_id == channel, phone_numbers.c.region.is_distinct_from(region))
          for channel, region in regions.items()))))
    written = {(channel, phone) for channel, phone in conn.execute(
        sa.select(phone_numbers.c.channel_id, phone_numbers.c.phone))}
    present = {(schema, table, column) for schema, table, column in conn.execute(sa.text(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema like 'raw\\_%' escape '\\'"))}
    wanted = set(columns)
    rows: dict[tuple[str, str], dict[str, str | None]] = {}
    for channel, platform in sorted(platforms.items()):
        for connector, table, column in sorted(wanted):
            if connector != platform or (f"raw_{channel}", table, column) not in present:
                continue
            for (raw,) in conn.execute(sa.text(f'select distinct "{column}" from "raw_{channel}"."{table}" '
                                               f'where "{column}" is not null')):
                phone = digits(str(raw))
                if phone and (channel, phone) not in written:
                    rows[(channel, phone)] = {"channel_id": channel, "phone": phone, "region": regions[channel],
                                              "e164": e164(phone, regions[channel])}
    if rows:
        conn.execute(phone_numbers.insert(), list(rows.values()))
    return len(rows)
