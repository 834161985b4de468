"""The parallel pass (forked parse workers, rows handed over in staging files, one writer) stores
exactly what the serial pass stores, row for row, and leaves nothing behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import tokendash.ingest as ingest_mod
from tests.support import gen_corpus
from tokendash.ingest import LazyStore, ParsePool, ingest
from tokendash.pricing.prices import PriceBook
from tokendash.sources.claude_code import ClaudeCodeSource
from tokendash.store.db import open_store
from tokendash.store.repo import Store

ROW = "source, dedupe_key, ts_ms, model, project, session, input, output, cache_read, cache_write, rank, cost_nusd"


def _rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as c:
        return c.execute(f"SELECT {ROW} FROM usage_events ORDER BY source, dedupe_key").fetchall()


def _pass(home: Path, claude: Path, pool: ParsePool | None, url: str | None = None) -> list:
    url = url or f"sqlite:///{home / 'tokendash.db'}"
    lazy = LazyStore(lambda: Store(open_store(url), host_id="h"), url, "h")
    return ingest(lazy, PriceBook(), [ClaudeCodeSource([claude], batch_events=300)], pool=pool)


def test_parallel_equals_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    claude = tmp_path / "claude"
    manifest = gen_corpus(claude, files=30, assistant_lines=3000, seed=11, dup_rate=0.6, resume_rate=0.4)

    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 10**15)
    (serial,) = _pass(tmp_path / "serial", claude, None)
    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 0)
    with ParsePool(2) as pool:
        (parallel,) = _pass(tmp_path / "parallel", claude, pool)
        assert parallel.ok and serial.ok
        # Staged, merged in several transactions (300 rows each), then the staging folder is gone.
        assert not any((tmp_path / "parallel" / "staging").iterdir())
        again = _pass(tmp_path / "parallel", claude, pool)[0]
    rows = _rows(tmp_path / "parallel" / "tokendash.db")
    assert rows == _rows(tmp_path / "serial" / "tokendash.db")
    assert len(rows) == manifest["dedupTotals"]["entries"]
    assert sum(r[6] + r[7] + r[8] + r[9] for r in rows) == manifest["dedupTotals"]["totalTokens"]
    assert parallel.events_seen == serial.events_seen and again.events_written == 0 and again.bytes_read == 0


def test_parallel_on_postgresql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_database: str) -> None:
    # No staging files there: the workers' rows travel to the writer as they are.
    claude = tmp_path / "claude"
    manifest = gen_corpus(claude, files=12, assistant_lines=1500, seed=12, dup_rate=0.6, resume_rate=0.4)
    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 0)
    with ParsePool(2) as pool:
        (res,) = _pass(tmp_path, claude, pool, pg_database)
    assert res.ok, res.error
    (serial,) = _pass(tmp_path / "serial", claude, None)
    from sqlalchemy import create_engine, text

    engine = create_engine(pg_database.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as c:
        rows = [tuple(r) for r in c.execute(text(f"SELECT {ROW} FROM usage_events ORDER BY source, dedupe_key"))]
    engine.dispose()
    assert sorted(rows) == sorted(_rows(tmp_path / "serial" / "tokendash.db"))
    assert sum(r[6] + r[7] + r[8] + r[9] for r in rows) == manifest["dedupTotals"]["totalTokens"]


def test_staging_left_by_a_killed_pass_is_removed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tokendash.db'}"
    stale = tmp_path / "staging" / "999999999-abc"  # no such process
    stale.mkdir(parents=True)
    (stale / "worker-1.db").write_bytes(b"x")
    mine = ingest_mod._staging_dir(url)
    assert mine is not None and Path(mine).is_dir()
    assert not stale.exists()
