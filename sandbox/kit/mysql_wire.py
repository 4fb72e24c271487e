"""A MySQL/MariaDB protocol front: clients connect to it, it relays to the real server, and on the wire
it counts the rows each table serves and breaks what tests arm. It works for any client library (pymysql
through SQLAlchemy, connectorx's Rust driver) because it is what a server looks like to them.

The faults are the ones a database really produces, in the server's own packets:

* ``refuse``: the next N connections get ERR 1040 "Too many connections" in place of the greeting;
* ``drop``: the next N reads of a watched table lose their connection mid-query (clients: 2013);
* ``corrupt``: the first row of the next N reads of a table carries a bad value in one column (e.g. a
  zero DATE, which MariaDB keeps when strict mode is off), in text or binary protocol rows.

To keep parsing small the front clears the capabilities that would change packet framing from the
server's greeting (TLS, compression, deprecated EOF, MariaDB's extended metadata); clients fall back.
"""

from __future__ import annotations

import random
import re
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

CLIENT_MYSQL, CLIENT_COMPRESS, CLIENT_SSL = 1, 1 << 5, 1 << 11
CLIENT_DEPRECATE_EOF = 1 << 24
COM_QUERY, COM_STMT_PREPARE, COM_STMT_EXECUTE = 0x03, 0x16, 0x17
MORE_RESULTS = 0x0008
# binary-protocol widths of fixed-size types; temporal types carry a length byte, the rest are lenenc
FIXED = {1: 1, 2: 2, 13: 2, 3: 4, 9: 4, 4: 4, 8: 8, 5: 8}
TEMPORAL = {7, 10, 11, 12}
ZERO_TEXT = {10: b"0000-00-00", 12: b"0000-00-00 00:00:00", 7: b"0000-00-00 00:00:00"}


@dataclass
class Corruption:
    table: str
    column: str
    times: int


@dataclass
class WireFaults:
    refuse: int = 0
    drop: int = 0
    drop_rate: float = 0.0  # cut the connection at this share of all statements (seeded: runs repeat)
    corrupt: list[Corruption] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    rng: random.Random = field(default_factory=lambda: random.Random(7), repr=False)

    dropped: int = 0        # statements cut by ``drop_rate`` so far

    def chance(self) -> bool:
        with self.lock:
            cut = self.drop_rate > 0 and self.rng.random() < self.drop_rate
            self.dropped += cut
            return cut

    def take(self, kind: str) -> bool:
        with self.lock:
            if getattr(self, kind) > 0:
                setattr(self, kind, getattr(self, kind) - 1)
                return True
            return False

    def take_corruption(self, table: str) -> str | None:
        with self.lock:
            for pending in self.corrupt:
                if pending.table == table and pending.times > 0:
                    pending.times -= 1
                    return pending.column
            return None


def _lenenc(data: bytes, at: int) -> tuple[int, int]:
    """A length-encoded integer at ``at``: (value, position after it)."""
    first = data[at]
    if first < 0xFB:
        return first, at + 1
    width = {0xFC: 2, 0xFD: 3, 0xFE: 8}[first]
    return int.from_bytes(data[at + 1:at + 1 + width], "little"), at + 1 + width


def _lenenc_bytes(value: bytes) -> bytes:
    n = len(value)
    head = bytes([n]) if n < 0xFB else b"\xfc" + n.to_bytes(2, "little") if n < 1 << 16 else \
        b"\xfd" + n.to_bytes(3, "little")
    return head + value


def _column(definition: bytes) -> tuple[str, int]:
    """Name and type of a column definition packet."""
    at, texts = 0, []
    for _ in range(6):  # catalog, schema, table, org_table, name, org_name
        n, at = _lenenc(definition, at)
        texts.append(definition[at:at + n])
        at += n
    _, at = _lenenc(definition, at)  # length of the fixed fields
    return texts[4].decode(), definition[at + 6]


class _Packets:
    """Reassembles packets from a byte stream: (sequence id, payload) as they complete."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self.buffer += data
        out = []
        while len(self.buffer) >= 4:
            length, seq = int.from_bytes(self.buffer[:3], "little"), self.buffer[3]
            if len(self.buffer) < 4 + length:
                break
            out.append((seq, self.buffer[4:4 + length]))
            self.buffer = self.buffer[4 + length:]
        return out


def _packet(seq: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "little") + bytes([seq]) + payload


class _Session:
    """One client connection's relay: the server's answers follow a small state machine per command."""

    def __init__(self, wire: MySQLWire, client: socket.socket, server: socket.socket) -> None:
        self.wire, self.client, self.server = wire, client, server
        self.greeted = False
        self.state = "idle"           # idle | count | columns | rows | prepare
        self.table: str | None = None  # the watched table the current command reads
        self.binary = False
        self.columns: list[tuple[str, int]] = []
        self.expected = 0
        self.corrupt: str | None = None
        self.prepared_sql = ""
        self.statements: dict[int, str] = {}
        self.prepare_left = 0

    # client -> server
    def from_client(self, seq: int, payload: bytes) -> bytes | None:
        """The packet to pass on, or None to cut the connection (the ``drop`` fault)."""
        if seq != 0 or not payload:
            return _packet(seq, payload)
        command = payload[0]
        if command in (COM_QUERY, COM_STMT_PREPARE, COM_STMT_EXECUTE) and self.wire.faults.chance():
            return None
        if command in (COM_QUERY, COM_STMT_PREPARE):
            sql = payload[1:].decode("utf-8", "replace")
            if command == COM_QUERY and sql.strip().lower() == "select @@socket":
                # a client on the server's host (connectorx's Rust driver) would switch to the unix
                # socket and leave the wire; a real U8 server is remote, its socket out of reach
                return _packet(seq, bytes([COM_QUERY]) + b"SELECT '/nonexistent/u8-sandbox/mysqld.sock' AS `@@socket`")
            table = self.wire.watched(sql)
            if command == COM_STMT_PREPARE:
                self.prepared_sql, self.state = sql, "prepare"
                return _packet(seq, payload)
            if table is not None and self.wire.faults.take("drop"):
                return None
            self._start(table, binary=False)
        elif command == COM_STMT_EXECUTE:
            sql = self.statements.get(int.from_bytes(payload[1:5], "little"), "")
            table = self.wire.watched(sql)
            if table is not None and self.wire.faults.take("drop"):
                return None
            self._start(table, binary=True)
        return _packet(seq, payload)

    def _start(self, table: str | None, *, binary: bool) -> None:
        self.table, self.binary, self.state, self.columns = table, binary, "count", []
        self.corrupt = self.wire.faults.take_corruption(table) if table else None

    # server -> client
    def from_server(self, seq: int, payload: bytes) -> bytes:
        if not self.greeted:
            self.greeted = True
            return _packet(seq, self._greeting(payload))
        if self.state == "prepare":
            self._prepare(payload)
        elif self.state == "count":
            if payload[:1] in (b"\x00", b"\xff", b"\xfb"):
                self.state = "idle"
            else:
                self.expected, _ = _lenenc(payload, 0)
                self.state = "columns"
        elif self.state == "columns":
            if payload[:1] == b"\xfe" and len(payload) < 9:
                self.state = "rows"
            else:
                self.columns.append(_column(payload))
        elif self.state == "rows":
            if payload[:1] == b"\xff" or (payload[:1] == b"\xfe" and len(payload) < 9):
                more = payload[:1] == b"\xfe" and len(payload) >= 5 and \
                    int.from_bytes(payload[3:5], "little") & MORE_RESULTS
                self.state = "count" if more else "idle"
                self.columns = [] if more else self.columns
            else:
                if self.table is not None:
                    self.wire.count(self.table)
                if self.corrupt is not None:
                    payload, self.corrupt = self._corrupted(payload, self.corrupt), None
        return _packet(seq, payload)

    def _greeting(self, payload: bytes) -> bytes:
        """Clear TLS, compression, deprecated EOF and MariaDB's extended capabilities."""
        at = payload.index(b"\x00", 1) + 1 + 4 + 8 + 1
        lower = int.from_bytes(payload[at:at + 2], "little")
        upper = int.from_bytes(payload[at + 5:at + 7], "little")
        caps = (lower | upper << 16) & ~(CLIENT_COMPRESS | CLIENT_SSL | CLIENT_DEPRECATE_EOF)
        data = bytearray(payload)
        data[at:at + 2] = (caps & 0xFFFF).to_bytes(2, "little")
        data[at + 5:at + 7] = (caps >> 16).to_bytes(2, "little")
        if not lower & CLIENT_MYSQL:  # MariaDB: 4 extended capability bytes after 6 reserved ones
            data[at + 14:at + 18] = b"\x00\x00\x00\x00"
        return bytes(data)

    def _prepare(self, payload: bytes) -> None:
        if self.prepare_left == 0:  # COM_STMT_PREPARE_OK, or an error
            if payload[:1] != b"\x00":
                self.state = "idle"
                return
            statement, columns, params = struct.unpack("<IHH", payload[1:9])
            self.statements[statement] = self.prepared_sql
            self.prepare_left = (params + 1 if params else 0) + (columns + 1 if columns else 0)
            if self.prepare_left == 0:
                self.state = "idle"
            return
        self.prepare_left -= 1
        if self.prepare_left == 0:
            self.state = "idle"

    def _corrupted(self, row: bytes, column: str) -> bytes:
        """The row with ``column`` replaced by the zero value of its temporal type (what MariaDB
        stores for a zero date when strict mode is off)."""
        index = [name for name, _ in self.columns].index(column)
        kind = self.columns[index][1]
        if not self.binary:
            at = 0
            for _ in range(index):
                at = at + 1 if row[at] == 0xFB else sum(_lenenc(row, at))
            end = at + 1 if row[at] == 0xFB else sum(_lenenc(row, at))
            return row[:at] + _lenenc_bytes(ZERO_TEXT.get(kind, b"?")) + row[end:]
        bitmap = row[1:1 + (len(self.columns) + 9) // 8]
        at = 1 + len(bitmap)
        for i, (_, kind_i) in enumerate(self.columns[:index + 1]):
            if bitmap[(i + 2) // 8] & (1 << ((i + 2) % 8)):
                continue  # NULL: no bytes
            width = FIXED.get(kind_i)
            if width is None:
                width = 1 + row[at] if kind_i in TEMPORAL else sum(_lenenc(row, at)) - at
            if i == index:
                value = b"\x00" if kind_i in TEMPORAL else _lenenc_bytes(b"?")
                return row[:at] + value + row[at + width:]
            at += width
        return row


class MySQLWire:
    """Serve ``upstream`` (host, port) on a free local port; ``tables`` are the ones counted and broken."""

    def __init__(self, upstream: tuple[str, int], tables: set[str]) -> None:
        self.upstream, self.tables = upstream, tables
        self.faults = WireFaults()
        self.rows_served: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._pattern = re.compile(r"\bFROM\s+[`\"\[]?(\w+)", re.IGNORECASE)
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def watched(self, sql: str) -> str | None:
        """The watched table a SELECT reads (clients wrap queries: connectorx selects from a subquery)."""
        if not sql.lstrip().upper().startswith("SELECT"):
            return None
        return next((name for name in self._pattern.findall(sql) if name in self.tables), None)

    def count(self, table: str) -> None:
        with self._lock:
            self.rows_served[table] += 1

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        if self.faults.take("refuse"):
            client.sendall(_packet(0, b"\xff" + (1040).to_bytes(2, "little") + b"#08004Too many connections"))
            client.close()
            return
        server = socket.create_connection(self.upstream)
        session = _Session(self, client, server)
        up, down = _Packets(), _Packets()
        threading.Thread(target=self._pump, args=(server, client, down, session.from_server), daemon=True).start()
        self._pump(client, server, up, session.from_client)

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket, packets: _Packets,
              handle: Callable[[int, bytes], bytes | None]) -> None:
        try:
            while data := source.recv(65536):
                out = []
                for seq, payload in packets.feed(data):
                    passed = handle(seq, payload)
                    if passed is None:  # cut: the client sees its connection lost mid-query
                        raise ConnectionAbortedError
                    out.append(passed)
                target.sendall(b"".join(out))
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
