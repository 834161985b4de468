"""Read-only queries without SQLAlchemy on the hot path.

``tokendash report`` is a short-lived process: importing SQLAlchemy alone costs ~135 ms, more than the
query itself on 130,000 events. For a SQLite store already at the current schema we read through the
standard library's ``sqlite3``; anything else (PostgreSQL, a store that needs migrating, a missing file)
goes through the SQLAlchemy engine. The aggregation code sees one interface: ``all(sql, params)`` with
``:name`` parameters, which both drivers accept.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

SCHEMA_HEAD = "0007_rollups"  # the newest Alembic revision; store/db.py migrates to it


class Reader(Protocol):
    def all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]: ...


class SqliteReader:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        return self.conn.execute(sql, dict(params or {})).fetchall()


class EngineReader:
    """A SQLAlchemy connection behind the same interface."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        from sqlalchemy import text

        return [tuple(r) for r in self.conn.execute(text(sql), dict(params or {})).all()]


def as_reader(conn: Any) -> Reader:
    """Accept a Reader or a SQLAlchemy connection (callers inside the sidecar hold the latter)."""
    return conn if hasattr(conn, "all") and not hasattr(conn, "exec_driver_sql") else EngineReader(conn)


def sqlite_path(url: str) -> str | None:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        return path if path and path != ":memory:" else None
    return None


def open_fast_sqlite(url: str) -> sqlite3.Connection | None:
    """A plain sqlite3 connection when the store is a SQLite file at the current schema, else None."""
    path = sqlite_path(url)
    if path is None or not os.path.isfile(path):
        return None
    conn = sqlite3.connect(path, timeout=10)
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        conn.close()
        return None
    if row is None or row[0] != SCHEMA_HEAD:
        conn.close()
        return None
    return conn


@contextmanager
def read_connection(url: str, engine_factory: Any) -> Iterator[Reader]:
    """``engine_factory()`` gives the (migrated) SQLAlchemy engine when the fast path does not apply."""
    fast = open_fast_sqlite(url)
    if fast is not None:
        try:
            yield SqliteReader(fast)
        finally:
            fast.close()
        return
    with engine_factory().connect() as conn:
        yield EngineReader(conn)
