"""Retention (SPEC §12): raw events older than ``historyRetentionDays`` are folded into rollups that are
kept for good (``tokendash archive``; the sidecar runs it once a day).

A rollup row (``usage_rollups``) is one 15-minute UTC bucket and one combination of every dimension a
report groups or filters on (host, source, provider, model, agent, project, session, channel) and the
cost source, with the summed token classes, nano-USD cost and the number of events folded into it
(``requests``). Every report reads events ∪ rollups (``accounting/aggregate.py``). Why 15 minutes: every
IANA zone's UTC offset is a whole multiple of 15 minutes (+05:30 Kolkata, +05:45 Kathmandu, +12:45
Chatham), so local hours, days, weeks and months, DST changes included, start on a bucket boundary and
a report over archived time is exact in any zone. What a rollup cannot answer: anything finer than 15
minutes, i.e. a rolling window (trailing 24 h / 7 d burn) that starts inside a bucket; that is why at
least ``MIN_RAW_DAYS`` of events always stay raw, whatever the setting.

Each UTC day is folded in its own transaction: its rollups are inserted, the dedupe keys of its events
are kept in ``archived_keys`` (so a re-read of the same log line is dropped, see ``repo.Store``), and its
events are deleted, all or nothing. On PostgreSQL that is one statement (``DELETE … RETURNING`` feeding
both inserts: one snapshot, and a row changed concurrently is folded in its final version); concurrent
archivers on a team store are serialised by an advisory lock. On SQLite the transaction starts with a
write, so it holds the one write lock from its first read.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from tokendash.store.db import is_sqlite

DAY_MS = 86_400_000
BUCKET_MS = 900_000
MIN_RAW_DAYS = 8  # the trailing 7-day burn window always reads raw events
ADVISORY_LOCK = 0x746B6461  # "tkda": one archiver at a time on a team store
WATERMARK = "archive.before_ms"  # every archived event is older than this
LAST_RUN = "archive.last_run_ms"
AUTO_EVERY_MS = 20 * 3_600_000  # --auto: due when the last run is older than this (the sidecar checks hourly)

KEYS = "host, source, provider, model, agent, project, session, channel, cost_source"
SUMMED = "input, output, cache_read, cache_write, cache_write_1h, reasoning, cost_nusd"
ROLLUP_COLS = f"ts_ms, {KEYS}, {SUMMED}, requests, archived_ms"
BUCKET = f"(ts_ms / {BUCKET_MS}) * {BUCKET_MS}"
_GROUP = ", ".join(str(i) for i in range(1, 11))
_FOLD_SELECT = (
    f"SELECT {BUCKET}, {KEYS}, SUM(input), SUM(output), SUM(cache_read), SUM(cache_write), SUM(cache_write_1h), "
    f"SUM(reasoning), SUM(cost_nusd), COUNT(*), :now"
)


@dataclass
class DayPlan:
    day: str  # UTC day, YYYY-MM-DD
    events: int
    rollup_rows: int
    tokens: int
    cost_usd: float


@dataclass
class ArchiveResult:
    cutoff: str  # events before this instant (UTC) are folded
    cutoff_ms: int
    retention_days: int
    dry_run: bool
    events: int = 0
    rollup_rows: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    days: list[DayPlan] = field(default_factory=list)
    skipped: str | None = None  # --auto when no run is due

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["days"] = [asdict(x) for x in self.days]
        return d


def raw_days(settings: Any, requested: int | None = None) -> int:
    """Days kept raw: ``historyRetentionDays`` (or ``requested``), but never fewer than the runaway alert's
    baseline reads (``runaway.baselineDays`` plus its window, at most a day), which reads raw events."""
    days = requested or settings.history_retention_days
    runaway = getattr(settings, "runaway", None)
    if runaway is not None and getattr(runaway, "enabled", True):
        days = max(days, int(runaway.baseline_days) + 2)
    return days


def cutoff_ms(now_ms: int, retention_days: int) -> int:
    t = now_ms - max(retention_days, MIN_RAW_DAYS) * DAY_MS
    return t - t % BUCKET_MS


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def _day(ms: int) -> str:
    return _iso(ms)[:10]


def read_meta(conn: Connection, key: str) -> int | None:
    v = conn.execute(text("SELECT value FROM meta WHERE key = :k"), {"k": key}).scalar()
    return int(v) if v is not None else None


def _set_meta(conn: Connection, key: str, value: int) -> None:
    conn.execute(
        text("INSERT INTO meta (key, value) VALUES (:k, :v) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
        {"k": key, "v": str(value)},
    )


def plan(conn: Connection, cut: int) -> list[DayPlan]:
    """What a run would fold, per UTC day (read only)."""
    rows = conn.execute(text(
        f"SELECT ts_ms / {DAY_MS}, COUNT(*), SUM(input + output + cache_read + cache_write), "
        "SUM(COALESCE(cost_nusd, 0)) FROM usage_events WHERE ts_ms < :cut GROUP BY 1 ORDER BY 1"
    ), {"cut": cut}).all()
    groups = dict(conn.execute(text(
        f"SELECT d, COUNT(*) FROM (SELECT ts_ms / {DAY_MS} AS d FROM usage_events WHERE ts_ms < :cut "
        f"GROUP BY ts_ms / {DAY_MS}, {BUCKET}, {KEYS}) x GROUP BY d"
    ), {"cut": cut}).all())
    return [DayPlan(_day(int(d) * DAY_MS), int(n), int(groups.get(d, 0)), int(t or 0), int(c or 0) / 1e9)
            for d, n, t, c in rows]


def _fold_sqlite(conn: Connection, lo: int, hi: int, now: int) -> tuple[int, int]:
    where = "WHERE ts_ms >= :lo AND ts_ms < :hi"
    p = {"lo": lo, "hi": hi, "now": now}
    n = conn.execute(text(f"SELECT COUNT(*) FROM usage_events {where}"), p).scalar_one()
    if not n:
        return 0, 0
    rows = conn.execute(text(
        f"INSERT INTO usage_rollups ({ROLLUP_COLS}) {_FOLD_SELECT} FROM usage_events {where} GROUP BY {_GROUP}"
    ), p).rowcount
    conn.execute(text(
        f"INSERT INTO archived_keys (source, dedupe_key) SELECT source, dedupe_key FROM usage_events {where} "
        "ON CONFLICT DO NOTHING"
    ), p)
    deleted = conn.execute(text(f"DELETE FROM usage_events {where}"), p).rowcount
    assert deleted == n, (deleted, n)
    return n, rows


def _fold_postgres(conn: Connection, lo: int, hi: int, now: int) -> tuple[int, int]:
    sql = (
        "WITH moved AS (DELETE FROM usage_events WHERE ts_ms >= :lo AND ts_ms < :hi "
        f"RETURNING ts_ms, {KEYS}, {SUMMED}, dedupe_key), "
        "keys AS (INSERT INTO archived_keys (source, dedupe_key) SELECT source, dedupe_key FROM moved "
        "ON CONFLICT DO NOTHING), "
        f"ins AS (INSERT INTO usage_rollups ({ROLLUP_COLS}) {_FOLD_SELECT} FROM moved GROUP BY {_GROUP} "
        "RETURNING requests) "
        "SELECT COALESCE(SUM(requests), 0), COUNT(*) FROM ins"
    )
    n, rows = conn.execute(text(sql), {"lo": lo, "hi": hi, "now": now}).one()
    return int(n), int(rows)


def archive(engine: Engine, *, retention_days: int, now_ms: int | None = None, dry_run: bool = False,
            auto: bool = False, stop: Any = None) -> ArchiveResult:
    """Fold events older than the retention into rollups (or, ``dry_run``, say what would be folded).
    ``auto``: only when the last run is older than ``AUTO_EVERY_MS`` (the sidecar's daily job).
    ``stop`` (a ``threading.Event``): checked between days; the next run goes on from there."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    cut = cutoff_ms(now, retention_days)
    res = ArchiveResult(_iso(cut), cut, retention_days, dry_run)
    sqlite = is_sqlite(engine)
    with engine.connect() as conn:
        last = read_meta(conn, LAST_RUN)
        if auto and last is not None and now - last < AUTO_EVERY_MS:
            res.skipped = f"the last archive ran at {_iso(last)}, less than a day ago"
            return res
        if dry_run:
            res.days = plan(conn, cut)
            _total(res)
            return res
        first = conn.execute(text("SELECT MIN(ts_ms) FROM usage_events")).scalar()
    day = (int(first) // DAY_MS) * DAY_MS if first is not None else cut
    while day < cut:
        if stop is not None and stop.is_set():
            _total(res)
            return res
        hi = min(day + DAY_MS, cut)
        with engine.begin() as conn:
            if sqlite:  # a write first: this transaction holds the write lock from its first read
                _set_meta(conn, LAST_RUN, now)
            else:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK})
            wm = read_meta(conn, WATERMARK) or 0
            if hi > wm:  # written before any event is folded: a writer that sees a key archived sees this
                _set_meta(conn, WATERMARK, hi)
            n, rows = (_fold_sqlite if sqlite else _fold_postgres)(conn, day, hi, now)
            nxt = conn.execute(text("SELECT MIN(ts_ms) FROM usage_events WHERE ts_ms >= :hi"), {"hi": hi}).scalar()
        if n:
            res.days.append(DayPlan(_day(day), n, rows, 0, 0.0))
        day = max(hi, (int(nxt) // DAY_MS) * DAY_MS) if nxt is not None else cut
    with engine.begin() as conn:
        _set_meta(conn, LAST_RUN, now)
    _total(res)
    return res


def _total(res: ArchiveResult) -> None:
    res.events = sum(d.events for d in res.days)
    res.rollup_rows = sum(d.rollup_rows for d in res.days)
    res.tokens = sum(d.tokens for d in res.days)
    res.cost_usd = sum(d.cost_usd for d in res.days)


def render(res: ArchiveResult) -> str:
    if res.skipped:
        return f"archive: not due ({res.skipped})"
    verb = "would fold" if res.dry_run else "folded"
    head = (f"archive: events before {res.cutoff} (retention {res.retention_days} days, at least {MIN_RAW_DAYS} "
            f"kept raw): {verb} {res.events:,} events into {res.rollup_rows:,} rollup rows")
    if not res.days:
        return head + "\n"
    lines = [head, ""]
    if res.dry_run:
        lines.append(f"{'day (UTC)':<12}{'events':>12}{'rollup rows':>14}{'tokens':>18}{'cost USD':>14}")
        for d in res.days:
            lines.append(f"{d.day:<12}{d.events:>12,}{d.rollup_rows:>14,}{d.tokens:>18,}{d.cost_usd:>14,.2f}")
        lines.append(f"{'total':<12}{res.events:>12,}{res.rollup_rows:>14,}{res.tokens:>18,}{res.cost_usd:>14,.2f}")
    else:
        lines.append(f"{'day (UTC)':<12}{'events':>12}{'rollup rows':>14}")
        for d in res.days:
            lines.append(f"{d.day:<12}{d.events:>12,}{d.rollup_rows:>14,}")
    return "\n".join(lines) + "\n"
