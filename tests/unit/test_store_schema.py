"""The schema comes from the Alembic migrations, and it is exactly what the models describe, on SQLite
and on PostgreSQL; opening a store twice does not migrate again; the file is private."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tokendash.sources.base import FileCursor, UsageEvent
from tokendash.store import models
from tokendash.store.db import HEAD, current_revision, open_store
from tokendash.store.repo import Store


def _diff(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), models.metadata)


def _roundtrip(url: str) -> None:
    engine = open_store(url)
    assert current_revision(engine) == HEAD
    assert _diff(engine) == []
    from tokendash.pricing.prices import Priced

    store = Store(engine, host_id="h1")
    ev = UsageEvent("claude-code", "m1:r1", 1_760_000_000_000, "anthropic", "claude-opus-4-5", input=1, output=2, rank=3)
    cur = FileCursor("/x.jsonl", 1, 2, 30, 40, 30, 1, {"k": "v"})
    assert store.write_batch("claude-code", [(ev, Priced(5, "estimated"))], [], [cur]) == 1
    # The same usage again with a lower rank changes nothing; a higher rank replaces it.
    assert store.write_batch("claude-code", [(ev, Priced(5, "estimated"))], [], []) == 0
    ev.output, ev.rank = 9, 4
    assert store.write_batch("claude-code", [(ev, Priced(7, "estimated"))], [], []) == 1
    assert store.count_events() == 1
    assert store.load_cursors("claude-code")["/x.jsonl"].state == {"k": "v"}
    engine.dispose()
    again = open_store(url)  # already at HEAD: no migration, data intact
    assert Store(again).count_events() == 1
    again.dispose()


def test_sqlite_schema_from_migrations(tmp_path: Path) -> None:
    db = tmp_path / "s" / "tokendash.db"
    _roundtrip(f"sqlite:///{db}")
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600


@pytest.mark.postgres
def test_postgres_schema_from_migrations(pg_database: str) -> None:
    _roundtrip(pg_database)
