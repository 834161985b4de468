"""Retention (``tokendash archive``, store/archive.py): raw events older than historyRetentionDays are
folded into 15-minute rollups, and every figure read over archived time stays the same, to the token and
the nano-dollar: ``token-dashboard.usage`` on both of its paths (range sums and GROUP BY), by every
dimension and filter and in zones with whole-, half- and three-quarter-hour offsets across a DST change;
the dashboard summary (periods, breakdowns, burn), budgets and the /metrics counters. An archived event
read again is not counted again. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import tokendash.accounting.aggregate as agg
from tests.support import Cli, gen_corpus
from tokendash.accounting.budgets import evaluate_budgets
from tokendash.accounting.summary import build_summary
from tokendash.config.settings import Budget
from tokendash.pricing.prices import Priced
from tokendash.server import metrics
from tokendash.sources.base import UsageEvent
from tokendash.store.archive import BUCKET_MS, MIN_RAW_DAYS, archive, cutoff_ms
from tokendash.store.db import open_store
from tokendash.store.reader import EngineReader, SqliteReader
from tokendash.store.repo import Store

NOW = int(datetime(2026, 11, 20, 12, 7, 3, tzinfo=UTC).timestamp() * 1000)
DAY = 86_400_000
RETENTION = 12  # cut-off 2026-11-08 12:00Z: the month, the US DST change (1 November) and more are archived
ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Eucla"]


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_database")


def make_events(n: int, seed: int, days: int = 45, prefix: str = "k") -> dict[tuple[str, str], list]:
    """``{(host, source): [(UsageEvent, Priced)]}`` spread over ``days`` before NOW, every dimension and
    every cost source represented, times to the millisecond."""
    rng = random.Random(seed)
    out: dict[tuple[str, str], list] = {}
    for i in range(n):
        host = rng.choice(["h1", "h1", "h2"])
        source = rng.choice(["claude-code", "codex", "record"])
        provider, model = rng.choice([("anthropic", "claude-opus-4-5"), ("anthropic", "claude-sonnet-4-5"),
                                      ("openai", "gpt-5"), ("acme", "acme-1")])
        ev = UsageEvent(
            source, f"{prefix}{i}", NOW - rng.randrange(days * DAY), provider, model,
            input=rng.randrange(5000), output=rng.randrange(2000), cache_read=rng.randrange(50_000),
            cache_write=rng.randrange(3000), reasoning=rng.randrange(500),
            agent=rng.choice([None, "main", "ops"]), project=rng.choice([None, "site", "api", "bot"]),
            session=f"s{rng.randrange(40)}", channel=rng.choice([None, "webchat", "telegram"]), rank=1,
        )
        kind = rng.random()
        priced = (Priced(None, "unpriced") if kind < 0.15 else Priced(rng.randrange(10**8), "reported")
                  if kind < 0.3 else Priced(rng.randrange(10**8), "estimated"))
        out.setdefault((host, source), []).append((ev, priced))
    return out


def fill(url: str, events: dict[tuple[str, str], list]) -> int:
    engine = open_store(url)
    n = 0
    try:
        for (host, source), evs in sorted(events.items()):
            n += Store(engine, host_id=host).write_batch(source, evs)
    finally:
        engine.dispose()
    return n


@pytest.fixture
def reader(store_url: str) -> Iterator[Any]:
    """A function giving a fresh Reader of the store (plain sqlite3 on SQLite: the CLI's fast path)."""
    opened: list[Any] = []

    def make() -> Any:
        if store_url.startswith("sqlite"):
            c = sqlite3.connect(store_url[len("sqlite:///"):])
            opened.append(c)
            return SqliteReader(c)
        engine = open_store(store_url)
        conn = engine.connect()
        opened.append((engine, conn))
        return EngineReader(conn)

    yield make
    for o in opened:
        if isinstance(o, tuple):
            o[1].close()
            o[0].dispose()
        else:
            o.close()


def norm(res: dict[str, Any]) -> tuple:
    return sorted(json.dumps(r, sort_keys=True) for r in res["rows"]), res["totals"]


QUERIES: list[dict[str, Any]] = [
    *({"group_by": [g], "timezone": tz} for g in ("day", "week", "month", "hour") for tz in ZONES),
    {"group_by": ["day", "provider", "model"], "timezone": "America/New_York"},
    {"group_by": ["agent", "project", "session"], "timezone": "UTC"},
    {"group_by": ["host", "source", "channel"], "timezone": "Asia/Kolkata"},
    {"group_by": ["day"], "timezone": "Asia/Kolkata", "filters": {"host": ["h1"]}},
    {"group_by": ["week", "agent"], "timezone": "UTC", "filters": {"provider": ["acme", "openai"], "agent": ["main"]}},
    {"group_by": ["day"], "timezone": "America/New_York", "since": date(2026, 10, 25), "until": date(2026, 11, 12)},
    {"group_by": ["month", "session"], "timezone": "Asia/Kathmandu", "filters": {"session": ["s3", "s7"]}},
    {"group_by": ["provider"], "timezone": "UTC", "start_ms": NOW - 7 * DAY, "end_ms": NOW + 1},
    {"group_by": [], "timezone": "UTC"},
    {"group_by": ["model", "host"], "timezone": "UTC", "filters": {"agent": ["main"]}},
    {"group_by": ["source"], "timezone": "Asia/Kolkata", "since": date(2026, 10, 30), "until": date(2026, 11, 15)},
    {"group_by": ["provider"], "timezone": "UTC", "start_ms": NOW - 10 * DAY + 12_345, "end_ms": NOW - 2 * DAY},
]


def all_reports(make_reader: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Every query on each path (the summary, range sums, GROUP BY): the three must agree."""
    answers = []
    for path in ("summary", "ranges", "group-by"):
        with monkeypatch.context() as m:
            if path != "summary":
                m.setattr(agg, "USE_SUMMARY", False)
            if path == "group-by":
                m.setattr(agg, "MAX_RANGE_QUERIES", -1)
            r = make_reader()
            answers.append([norm(agg.usage(r, agg.UsageQuery(**q))) for q in QUERIES])
    assert answers[0] == answers[1] == answers[2]
    return answers[0]


def refresh(url: str) -> int:
    engine = open_store(url)
    try:
        return Store(engine).refresh_summary()
    finally:
        engine.dispose()


def dashboard(url: str) -> tuple[dict, list, bytes]:
    engine = open_store(url)
    try:
        with engine.connect() as conn:
            s = build_summary(conn, tz_name="America/New_York", now_ms=NOW, currency="USD", source_states={},
                              known_sources=[], subscription=["codex"])
            budgets = [Budget(id="month", period="monthly", limit=100),
                       Budget(id="acme-week", period="weekly", limit=5, scope={"provider": "acme"}),
                       Budget(id="main-month", period="monthly", limit=50, scope={"agent": "main"})]
            b = evaluate_budgets(conn, budgets, tz_name="Asia/Kolkata", now_ms=NOW, from_usd=lambda x: x,
                                 currency="USD", subscription=["codex"])
            rows = agg.usage(conn, agg.UsageQuery(timezone="UTC", group_by=["provider", "model", "source", "agent"]))
            m = metrics.render(sorted(rows["rows"], key=lambda r: json.dumps(r, sort_keys=True)), {**s, "budgets": b})
    finally:
        engine.dispose()
    return s, b, m


def counts(url: str) -> tuple[int, int, int]:
    engine = open_store(url)
    try:
        with engine.connect() as c:
            return tuple(c.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()  # type: ignore[return-value]
                         for t in ("usage_events", "usage_rollups", "archived_keys"))
    finally:
        engine.dispose()


def test_every_report_is_the_same_after_archive(store_url: str, reader: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    events = make_events(3000, seed=7)
    assert fill(store_url, events) == 3000
    before = all_reports(reader, monkeypatch)  # every bucket dirty: the summary path reads the events
    dash_before = dashboard(store_url)
    assert refresh(store_url) > 1000
    assert all_reports(reader, monkeypatch) == before  # from the summary
    assert dashboard(store_url) == dash_before
    cut = cutoff_ms(NOW, RETENTION)
    old = sum(1 for evs in events.values() for e, _ in evs if e.ts_ms < cut)
    assert cut % BUCKET_MS == 0 and 1000 < old < 3000

    dry = archive(open_store(store_url), retention_days=RETENTION, now_ms=NOW, dry_run=True)
    assert (dry.events, dry.dry_run) == (old, True) and 0 < dry.rollup_rows <= old
    assert counts(store_url) == (3000, 0, 0)  # a dry run changes nothing

    engine = open_store(store_url)
    res = archive(engine, retention_days=RETENTION, now_ms=NOW)
    engine.dispose()
    assert (res.events, res.rollup_rows) == (old, dry.rollup_rows)
    assert counts(store_url) == (3000 - old, res.rollup_rows, old)

    assert all_reports(reader, monkeypatch) == before
    assert dashboard(store_url) == dash_before
    # Some buckets written again (dirty), partly archived time: the summary path mixes the three sources.
    some = {k: v[:40] for k, v in events.items()}
    assert fill(store_url, some) == 0
    assert all_reports(reader, monkeypatch) == before
    assert refresh(store_url) > 0
    assert all_reports(reader, monkeypatch) == before
    # The month to date, the monthly budgets and the all-time counters really read archived time.
    s, b, _ = dash_before
    assert s["periods"]["month"]["requests"] > 0 and b[0]["spent"] > 0

    # A second run has nothing left to fold.
    engine = open_store(store_url)
    assert archive(engine, retention_days=RETENTION, now_ms=NOW).events == 0
    engine.dispose()


def test_archived_events_read_again_count_once(store_url: str, reader: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    events = make_events(800, seed=3)
    fill(store_url, events)
    engine = open_store(store_url)
    archive(engine, retention_days=RETENTION, now_ms=NOW)
    engine.dispose()
    before = all_reports(reader, monkeypatch)
    stored = counts(store_url)
    # Every log line read again (a rewritten file, a synced copy, a replay): nothing new is stored.
    assert fill(store_url, events) == 0
    assert counts(store_url) == stored
    assert all_reports(reader, monkeypatch) == before
    if store_url.startswith("sqlite"):  # the cold-ingest path: rows merged from a worker's staging file
        from tokendash.store.rows import StagingFile, event_rows

        engine = open_store(store_url)
        for (host, source), evs in sorted(events.items()):
            staging = StagingFile(str(Path(store_url[len("sqlite:///"):]).with_name(f"staged-{host}-{source}.db")))
            first, last = staging.add(event_rows(host, evs))
            assert Store(engine, host_id=host).write_staged(source, [(staging.path, first, last)]) == 0
            staging.conn.close()
        engine.dispose()
        assert counts(store_url) == stored
    # The source's item count still counts archived events.
    engine = open_store(store_url)
    store = Store(engine, host_id="h1")
    store.set_source_state("codex", ok=True)
    n_codex = sum(len(v) for (_h, s), v in events.items() if s == "codex")
    assert store.source_states()["codex"].items == n_codex
    # New events that are late and old (a host that was offline) are kept raw, then folded by the next run.
    late = make_events(200, seed=4, prefix="late")
    assert fill(store_url, late) == 200
    totals_with_late = agg.usage(reader(), agg.UsageQuery(group_by=["day"], timezone="UTC"))["totals"]
    archive(engine, retention_days=RETENTION, now_ms=NOW + DAY)
    engine.dispose()
    assert agg.usage(reader(), agg.UsageQuery(group_by=["day"], timezone="UTC"))["totals"] == totals_with_late
    assert totals_with_late["requests"] == 1000


def test_at_least_a_week_stays_raw() -> None:
    assert cutoff_ms(NOW, 1) == cutoff_ms(NOW, MIN_RAW_DAYS) <= NOW - 8 * DAY
    assert cutoff_ms(NOW, 90) % BUCKET_MS == 0


def test_archive_cli(tmp_path: Path) -> None:
    """``tokendash archive --dry-run``, ``archive``, then the same file read again from the start: the
    report is unchanged throughout, and the CLI says what it folded."""
    claude = tmp_path / ".claude"
    end = datetime.now(UTC).date()
    manifest = gen_corpus(claude, files=6, assistant_lines=1200, seed=21, end_date=end.isoformat(), days=40)
    cli = Cli(tmp_path, claude=claude)
    cli.run("ingest")
    before = cli.json("report", "daily", "--tz", "Asia/Kolkata")
    assert before["totals"]["tokens"]["total"] == manifest["dedupTotals"]["totalTokens"]
    dry = cli.run("archive", "--dry-run", "--retention-days", "10").stdout
    assert "would fold" in dry and "day (UTC)" in dry
    assert cli.json("report", "daily", "--tz", "Asia/Kolkata") == before
    res = cli.json("archive", "--retention-days", "10")
    assert res["events"] > 0 and res["dry_run"] is False
    assert cli.json("report", "daily", "--tz", "Asia/Kolkata") == before
    # Every file rewritten in place (new inode): all of it is read again; nothing counts twice.
    for f in (claude / "projects").rglob("*.jsonl"):
        data = f.read_bytes()
        f.unlink()
        f.write_bytes(data)
    out = cli.json("ingest")
    assert [r["items"] for r in out["results"] if r["source"] == "claude-code"] == [0]
    assert cli.json("report", "daily", "--tz", "Asia/Kolkata") == before
    assert "not due" in cli.run("archive", "--auto").stdout
