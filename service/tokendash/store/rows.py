"""What a write is made of, without the database layer: event rows, the host id, and the cursors read
straight from a SQLite store. Parse workers and the start of an ingest pass use this module so that
neither has to import SQLAlchemy before there is something to write."""

from __future__ import annotations

import hashlib
import json
import socket
import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from tokendash.sources.base import FileCursor, UsageEvent

EVENT_COLS = (
    "host, source, dedupe_key, ts_ms, provider, model, agent, project, session, channel, input, output, "
    "cache_read, cache_write, cache_write_1h, reasoning, rank, cost_nusd, cost_source, model_fallback, "
    "ingested_ms"
)
CURSOR_COLS = 'path, dev, inode, size, mtime_ns, "offset", parser_version, state'


def now_ms() -> int:
    return int(time.time() * 1000)


def machine_host_id() -> str:
    """A stable id for this machine: hostname plus a short hash of /etc/machine-id when there is one."""
    name = socket.gethostname() or "localhost"
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            with open(path) as f:
                mid = f.read().strip()
            if mid:
                return f"{name}-{hashlib.sha256(mid.encode()).hexdigest()[:8]}"
        except OSError:
            continue
    return name


def event_rows(host: str, events: Iterable[tuple[UsageEvent, Any]]) -> list[tuple]:
    """Priced events ``(event, Priced)`` as plain row tuples in ``EVENT_COLS`` order (cheap to send
    between processes)."""
    ts = now_ms()
    return [
        (
            host, e.source, e.dedupe_key, e.ts_ms, e.provider, e.model, e.agent, e.project, e.session,
            e.channel, e.input, e.output, e.cache_read, e.cache_write, e.cache_write_1h, e.reasoning,
            e.rank, p.cost_nusd, p.cost_source, e.model_fallback, ts,
        )
        for e, p in events
    ]


def cursor_from_row(r: tuple) -> FileCursor:
    return FileCursor(
        path=r[0], dev=r[1], inode=r[2], size=r[3], mtime_ns=r[4], offset=r[5], parser_version=r[6],
        state=json.loads(r[7] or "{}"),
    )


def sqlite_cursors(url: str, source: str) -> dict[str, FileCursor] | None:
    """A source's file cursors read with plain sqlite3: ``{}`` when the store file does not exist yet
    (a first pass), ``None`` when this shortcut does not apply (not SQLite, or an older schema)."""
    from tokendash.store.reader import open_fast_sqlite, sqlite_path

    path = sqlite_path(url)
    if path is None:
        return None
    import os

    if not os.path.exists(path):
        return {}
    conn = open_fast_sqlite(url)
    if conn is None:
        return None
    try:
        rows = conn.execute(f"SELECT {CURSOR_COLS} FROM file_cursors WHERE source = ?", (source,)).fetchall()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return {r[0]: cursor_from_row(r) for r in rows}


class StagingFile:
    """A parse worker's own SQLite file of finished rows (``EVENT_COLS``, no index, no fsync): the writer
    merges them into the store with one ``INSERT … SELECT`` in C instead of receiving, decoding and
    binding every value in Python. It is a transport only; the store transaction that merges the rows
    also commits their cursors, so a crash at any point loses nothing (the file is simply dropped)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")  # the writer reads while this worker adds more
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute(f"CREATE TABLE IF NOT EXISTS staged ({EVENT_COLS})")
        self._insert = f"INSERT INTO staged VALUES ({', '.join('?' * len(EVENT_COLS.split(', ')))})"

    def add(self, rows: list[tuple]) -> tuple[int, int]:
        """Store rows; returns their rowid range ``(first, last)``."""
        c = self.conn
        c.execute("BEGIN")
        first = (c.execute("SELECT MAX(rowid) FROM staged").fetchone()[0] or 0) + 1
        c.executemany(self._insert, rows)
        last = c.execute("SELECT MAX(rowid) FROM staged").fetchone()[0] or 0
        c.execute("COMMIT")
        return first, last
