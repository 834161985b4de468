"""A report by day, week or month is answered with one range sum per local period over the covering time
index; it must equal the general ``GROUP BY`` answer to the token and nano-dollar, DST changes included."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import tokendash.accounting.aggregate as agg
from tests.support import Cli, gen_corpus
from tokendash.store.reader import SqliteReader


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("paths")
    claude = tmp / ".claude"
    # 40 days around the end of US daylight time (1 November 2026) and a month boundary.
    gen_corpus(claude, files=8, assistant_lines=1500, seed=31, end_date="2026-11-20", days=40)
    cli = Cli(tmp, claude=claude)
    cli.run("ingest")
    return cli.home / "tokendash.db"


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Kolkata", "UTC"])
@pytest.mark.parametrize("params", [
    {"groupBy": ["day"]}, {"groupBy": ["week"]}, {"groupBy": ["month"]},
    {"groupBy": ["day"], "since": "2026-10-20", "until": "2026-11-08"}, {"groupBy": ["day"], "limit": 3},
])
def test_range_sums_equal_group_by(store: Path, tz: str, params: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """The three paths: the summary (15-minute buckets), range sums over the covering index, GROUP BY."""
    q = agg.UsageQuery.from_params({**params, "timezone": tz}, "UTC")
    with sqlite3.connect(store) as c:
        assert c.execute("SELECT COUNT(*) FROM dirty_buckets").fetchone()[0] == 0  # ingest refreshed it
        assert c.execute("SELECT COUNT(*) FROM usage_summary").fetchone()[0] > 0
        summary = agg.usage(SqliteReader(c), q)
        monkeypatch.setattr(agg, "USE_SUMMARY", False)
        fast = agg.usage(SqliteReader(c), q)
        monkeypatch.setattr(agg, "MAX_RANGE_QUERIES", -1)  # the general path
        general = agg.usage(SqliteReader(c), q)
    assert fast == general == summary
    assert fast["rows"] and fast["totals"]["requests"] > 0


def test_the_range_sums_read_only_the_index(store: Path) -> None:
    with sqlite3.connect(store) as c:
        plan = c.execute("EXPLAIN QUERY PLAN SELECT " + agg._SUMS + " FROM usage_events WHERE ts_ms >= 0 AND ts_ms < 1"
                         ).fetchall()
    assert "COVERING INDEX ix_usage_events_ts_cover" in str(plan)


PARAMS = [{"groupBy": ["day"]}, {"groupBy": ["week"]}, {"groupBy": ["month"]}, {"groupBy": ["hour"]},
          {"groupBy": ["day", "model"], "since": "2026-10-20", "until": "2026-11-08"},
          {"groupBy": ["month", "project"], "filters": {"model": ["claude-sonnet-4-5-20250929"]}},
          {"groupBy": ["session", "project"], "limit": 5}]


def test_postgres_answers_as_sqlite(store: Path, tmp_path: Path, pg_database: str) -> None:
    """The same logs ingested into PostgreSQL: its GROUP BY answers equal SQLite's range sums."""
    from sqlalchemy import create_engine

    from tokendash.store.reader import EngineReader

    cli = Cli(tmp_path, claude=store.parent.parent / ".claude", database_url=pg_database)
    cli.run("ingest")
    engine = create_engine(pg_database)
    try:
        with sqlite3.connect(store) as c, engine.connect() as pg:
            for tz in ("America/New_York", "Asia/Kolkata"):
                for params in PARAMS:
                    q = agg.UsageQuery.from_params({**params, "timezone": tz}, "UTC")
                    lite, post = agg.usage(SqliteReader(c), q), agg.usage(EngineReader(pg), q)
                    assert post == lite, (tz, params)
    finally:
        engine.dispose()
