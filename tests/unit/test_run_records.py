"""A run the OpenClaw plugin records live (``llm_output`` → ``token-dashboard.record``) and the same run
read later from the transcript count once, whichever arrives first, on SQLite and PostgreSQL
(sources/runs.py). The transcript is the finer record, so it is the one kept.

The run below is a two-call tool loop: the hook reports the run's sum (2068 / 112 / 400 / 0, the
figures of openclaw-e2e.md §10.3), the transcript one row per call (1034 / 56 / 200 / 0 each)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.unit.test_openclaw_source import SCHEMA, assistant, header, put
from tokendash.api.records import to_events
from tokendash.ingest import ingest_source
from tokendash.pricing.prices import PriceBook
from tokendash.sources.openclaw import OpenClawSource
from tokendash.sources.runs import run_idempotency_key
from tokendash.store.db import open_store
from tokendash.store.repo import Store

SID = "6f707dca-949d-43fe-9e7a-93acb5420c63"
RUN = "run-1"
CALL = (1034, 56, 200, 0)
COST = 0.004002  # OpenClaw's figure for one call at 3 / 15 / 0.3 / 3.75 USD per 1M tokens


def run_record(run: str = RUN) -> dict:
    """What plugin/index.js ``runRecord`` sends for the run."""
    return {"idempotencyKey": run_idempotency_key("main", SID, run), "timestamp": "2026-06-10T08:00:05Z",
            "provider": "fakellm", "model": "fake-model", "agent": "main", "session": "agent:main:main",
            "input": 2 * CALL[0], "output": 2 * CALL[1], "cacheRead": 2 * CALL[2], "cacheWrite": 0,
            "costUsd": 2 * COST}


def call_row(eid: str, ts_ms: int, run: str | None) -> dict:
    row = assistant(eid, ts_ms, CALL, provider="fakellm", model="fake-model", cost=COST)
    if run is not None:
        row["message"]["__openclaw"] = {"runId": run}
    return row


def write_transcript(root: Path, rows: list[dict]) -> None:
    db = root / "agents" / "main" / "agent" / "openclaw-agent.sqlite"
    fresh = not db.exists()
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db)
    if fresh:
        conn.executescript(SCHEMA)
        conn.execute("INSERT INTO session_windows VALUES (?, 'agent:main:main', 'fakellm', 'fake-model', "
                     "'webchat', 1781078400000)", (SID,))
        put(conn, SID, 0, header(SID, "2026-06-10T08:00:00.000Z", "/home/user/bot"))
    top = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM transcript_events").fetchone()[0]
    for i, row in enumerate(rows, top + 1):
        put(conn, SID, i, row)
    conn.commit()
    conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    url = f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite" else request.getfixturevalue(
        "pg_database")
    s = Store(open_store(url), host_id="test-host")
    yield s
    s.engine.dispose()


def record(store: Store, *recs: dict) -> int:
    prices = PriceBook()
    return store.write_batch("record", [(e, prices.price(e)) for e in to_events(list(recs))])


def ingest_transcript(store: Store, root: Path) -> None:
    res = ingest_source(store, PriceBook(), OpenClawSource(root))
    assert res.ok, res.error


def totals(store: Store) -> dict[str, tuple[int, ...]]:
    with store.engine.connect() as c:
        rows = c.execute(text("SELECT source, COUNT(*), SUM(input), SUM(output), SUM(cache_read), SUM(cache_write), "
                              "SUM(cost_nusd) FROM usage_events GROUP BY source")).all()
    return {r[0]: tuple(int(x) for x in r[1:]) for r in rows}


# Two transcript rows: 2 × one call, OpenClaw's cost in nano-USD.
TRANSCRIPT = {"openclaw": (2, 2068, 112, 400, 0, 2 * 4_002_000)}


def test_record_first_then_transcript_keeps_the_transcript(store: Store, tmp_path: Path) -> None:
    root = tmp_path / ".openclaw"
    assert record(store, run_record()) == 1
    assert totals(store) == {"record": (1, 2068, 112, 400, 0, 8_004_000)}  # the live figure, at once
    write_transcript(root, [call_row("c-1", 1781078401000, RUN), call_row("c-2", 1781078402000, RUN)])
    ingest_transcript(store, root)
    assert totals(store) == TRANSCRIPT
    # The plugin retrying the same record later is a duplicate, not a second copy.
    assert record(store, run_record()) == 0
    assert totals(store) == TRANSCRIPT


def test_transcript_first_then_record_is_a_duplicate(store: Store, tmp_path: Path) -> None:
    root = tmp_path / ".openclaw"
    write_transcript(root, [call_row("c-1", 1781078401000, RUN), call_row("c-2", 1781078402000, RUN)])
    ingest_transcript(store, root)
    # In one call with a record of another run: that one is kept.
    assert record(store, run_record(), run_record("run-2")) == 1
    assert totals(store) == {**TRANSCRIPT, "record": (1, 2068, 112, 400, 0, 8_004_000)}


def test_rows_without_a_run_id_supersede_nothing(store: Store, tmp_path: Path) -> None:
    """Older transcripts (no ``__openclaw.runId``) and records of other callers stay as they are."""
    root = tmp_path / ".openclaw"
    record(store, run_record())
    write_transcript(root, [call_row("c-1", 1781078401000, None)])
    ingest_transcript(store, root)
    assert totals(store) == {"openclaw": (1, 1034, 56, 200, 0, 4_002_000), "record": (1, 2068, 112, 400, 0, 8_004_000)}


def test_a_second_pass_after_new_rows_still_counts_once(store: Store, tmp_path: Path) -> None:
    root = tmp_path / ".openclaw"
    write_transcript(root, [call_row("c-1", 1781078401000, RUN)])
    ingest_transcript(store, root)
    record(store, run_record("run-2"))
    write_transcript(root, [call_row("c-2", 1781078402000, "run-2")])
    ingest_transcript(store, root)  # reads only the new row; it supersedes run-2's record
    ingest_transcript(store, root)  # nothing new
    assert totals(store) == TRANSCRIPT
