"""Upgrades keep every row (SPEC §12): a store created at the first revision (0001_usage_ledger) and
filled with rows written in that revision's own SQL is upgraded to the newest one by opening it, as a
new tokendash would; no row is lost and every total is what it was. On SQLite and on PostgreSQL."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import text

import tokendash.accounting.aggregate as agg
from tokendash.store.db import HEAD, current_revision, make_engine, migrate, open_store
from tokendash.store.reader import EngineReader
from tokendash.store.repo import Store

FIRST = "0001_usage_ledger"
N = 2000
T0 = 1_760_000_000_000  # 2025-10-09


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return request.getfixturevalue("pg_database")


def fill_first_revision(conn) -> None:  # type: ignore[no-untyped-def]
    """Rows as tokendash 0001 wrote them: its columns, its constraints, nothing newer."""
    rng = random.Random(5)
    rows = []
    for i in range(N):
        unpriced = rng.random() < 0.1
        rows.append({
            "host": rng.choice(["h1", "h2"]), "source": rng.choice(["claude-code", "codex"]), "dedupe_key": f"k{i}",
            "ts_ms": T0 + rng.randrange(60 * 86_400_000), "provider": rng.choice(["anthropic", "openai"]),
            "model": rng.choice(["m1", "m2", "m3"]), "agent": rng.choice([None, "main"]),
            "project": rng.choice([None, "p1", "p2"]), "session": f"s{rng.randrange(30)}", "channel": None,
            "input": rng.randrange(4000), "output": rng.randrange(900), "cache_read": rng.randrange(40_000),
            "cache_write": rng.randrange(2000), "cache_write_1h": 0, "reasoning": rng.randrange(100),
            "rank": rng.randrange(10**6), "cost_nusd": None if unpriced else rng.randrange(10**8),
            "cost_source": "unpriced" if unpriced else "estimated", "model_fallback": rng.random() < 0.05,
            "ingested_ms": T0 + 61 * 86_400_000,
        })
    cols = list(rows[0])
    conn.execute(text(f"INSERT INTO usage_events ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"),
                 rows)
    conn.execute(text(
        "INSERT INTO file_cursors (source, path, dev, inode, size, mtime_ns, \"offset\", parser_version, state) "
        "VALUES ('claude-code', '/logs/a.jsonl', 1, 2, 300, 4, 300, 1, '{\"fp\": \"x\"}')"))
    conn.execute(text(
        "INSERT INTO source_state (source, last_poll_ms, last_success_ms, error, items, files, malformed_lines, "
        "problems) VALUES ('claude-code', 1, 1, NULL, 1234, 3, 0, '[]')"))
    conn.execute(text(
        "INSERT INTO snapshots (host, source, kind, key, ts_ms, data) VALUES ('h1', 'codex', 'rate_limits', "
        "'primary', 5, '{\"used_percent\": 12.5}')"))
    conn.execute(text("INSERT INTO meta (key, value) VALUES ('created_by', 'tokendash 0.0.1')"))


def snapshot(conn) -> dict:  # type: ignore[no-untyped-def]
    out = {}
    for table, order in (("usage_events", "dedupe_key"), ("file_cursors", "path"), ("source_state", "source"),
                         ("snapshots", "id"), ("meta", "key")):
        names = list(conn.execute(text(f"SELECT * FROM {table} LIMIT 0")).keys())
        cols = [c for c in names if c != "id"]
        quoted = ", ".join(f'"{c}"' for c in cols)  # "offset" is a keyword in PostgreSQL
        out[table] = [tuple(r) for r in conn.execute(text(f"SELECT {quoted} FROM {table} ORDER BY {order}"))]
    return out


QUERIES = [{"group_by": ["day"], "timezone": "Europe/Amsterdam"}, {"group_by": ["month", "host", "model"]},
           {"group_by": ["source", "project", "agent"], "filters": {"provider": ["openai"]}}]


def test_upgrade_from_the_first_revision_keeps_every_row(url: str) -> None:
    engine = make_engine(url)
    migrate(engine, FIRST)
    assert current_revision(engine) == FIRST
    with engine.begin() as conn:
        fill_first_revision(conn)
    with engine.connect() as conn:
        before = snapshot(conn)
        sums_before = conn.execute(text(
            "SELECT COUNT(*), SUM(input), SUM(output), SUM(cache_read), SUM(cache_write), SUM(reasoning), "
            "SUM(cost_nusd) FROM usage_events")).one()
    engine.dispose()

    upgraded = open_store(url)  # what a newer tokendash does on start
    assert current_revision(upgraded) == HEAD
    with upgraded.connect() as conn:
        after = snapshot(conn)
        reports = [agg.usage(EngineReader(conn), agg.UsageQuery(**q)) for q in QUERIES]
        assert tuple(conn.execute(text(
            "SELECT COUNT(*), SUM(input), SUM(output), SUM(cache_read), SUM(cache_write), SUM(reasoning), "
            "SUM(cost_nusd) FROM usage_events")).one()) == tuple(sums_before)
    assert {t: len(v) for t, v in after.items()} == {t: len(v) for t, v in before.items()}
    assert after == before
    totals = reports[0]["totals"]
    assert totals["requests"] == N
    assert totals["tokens"]["input"] == sums_before[1]
    assert round(totals["costUsd"] * 1e9) == sums_before[6]
    assert reports[1]["totals"] == totals
    openai = sum(1 for r in before["usage_events"] if r[4] == "openai")
    assert reports[2]["totals"]["requests"] == openai
    # The upgraded store works as a new one: an old row seen again changes nothing, a new one is added.
    store = Store(upgraded, host_id="h3")
    from tokendash.pricing.prices import Priced
    from tokendash.sources.base import UsageEvent

    same = UsageEvent(before["usage_events"][0][1], before["usage_events"][0][2], T0, "anthropic", "m1", rank=-1)
    assert store.write_batch(same.source, [(same, Priced(1, "estimated"))]) == 0
    new = UsageEvent("codex", "new-key", T0, "openai", "m2", input=7)
    assert store.write_batch("codex", [(new, Priced(1, "estimated"))]) == 1
    assert store.count_events() == N + 1
    upgraded.dispose()
