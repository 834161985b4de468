"""Every write and the basic reads of the store.

Writes are idempotent upserts on ``(source, dedupe_key)``: a record seen again replaces the stored one
only when its rank is higher (SPEC §5 rule 1), so re-reading a file, a replayed log or two writers at
once can never double count. Events, snapshots and the cursors of the files they came from are written
in one transaction: after a crash either both are there or neither is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine

from tokendash.pricing.prices import Priced
from tokendash.sources.base import FileCursor, Snapshot, UsageEvent
from tokendash.store import models as m
from tokendash.store.db import is_sqlite
from tokendash.store.rows import CURSOR_COLS, EVENT_COLS, cursor_from_row, event_rows, machine_host_id, now_ms

BUCKET_MS = 900_000  # the summary's and the rollups' bucket (store/archive.py)
DAY_MS = 86_400_000
SUMMARY_LOCK = 0x746B6473  # PostgreSQL advisory lock: writers shared, refresh_summary exclusive

_EVENT_COLS = EVENT_COLS
_UPDATABLE = ["ts_ms", "provider", "model", "agent", "project", "session", "channel", "input", "output", "cache_read", "cache_write", "cache_write_1h", "reasoning", "rank", "cost_nusd", "cost_source", "model_fallback", "ingested_ms"]


def _row_key(row: tuple) -> str:
    return row[2]  # dedupe_key (the source is the same for a whole batch)


@dataclass(slots=True)
class SourceStateRow:
    source: str
    last_poll_ms: int | None
    last_success_ms: int | None
    error: str | None
    items: int
    files: int
    malformed_lines: int
    problems: list[str]


def _merge_ranges(staged: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Adjacent rowid ranges of the same staging file joined into one."""
    out: list[tuple[str, int, int]] = []
    for p, first, last in sorted(staged):
        if out and out[-1][0] == p and out[-1][2] + 1 == first:
            out[-1] = (p, out[-1][1], last)
        else:
            out.append((p, first, last))
    return out


class Store:
    def __init__(self, engine: Engine, host_id: str | None = None) -> None:
        self.engine = engine
        self.sqlite = is_sqlite(engine)
        self.host = host_id or machine_host_id()
        ph = "?" if self.sqlite else "%s"
        n = len(_EVENT_COLS.split(", "))
        sets = ", ".join(f"{c} = excluded.{c}" for c in _UPDATABLE)
        # Of two copies with the same rank (a resumed session repeats its parent's lines) the smaller
        # session id wins, whatever order they arrive in: parallel and serial passes store the same rows.
        self._upsert_tail = (
            f"ON CONFLICT (source, dedupe_key) DO UPDATE SET {sets} WHERE excluded.rank > usage_events.rank "
            "OR (excluded.rank = usage_events.rank "
            "AND COALESCE(excluded.session, '') < COALESCE(usage_events.session, ''))"
        )
        self._upsert_sql = f"INSERT INTO usage_events ({_EVENT_COLS}) VALUES ({', '.join([ph] * n)}) {self._upsert_tail}"
        self._ph = ph

    # -- writes ---------------------------------------------------------------------------------

    def write_batch(
        self,
        source: str,
        events: Sequence[tuple[UsageEvent, Priced]],
        snapshots: Iterable[Snapshot] = (),
        cursors: Iterable[FileCursor] = (),
        supersedes: Sequence[tuple[str, str]] = (),
    ) -> int:
        """Store one batch atomically; returns the number of event rows inserted or improved."""
        return self.write_rows(source, self.event_rows(events), snapshots, cursors, supersedes)

    def event_rows(self, events: Iterable[tuple[UsageEvent, Priced]]) -> list[tuple]:
        """Priced events as plain row tuples (cheap to send between processes)."""
        return event_rows(self.host, events)

    def write_rows(
        self, source: str, rows: list[tuple], snapshots: Iterable[Snapshot] = (), cursors: Iterable[FileCursor] = (),
        supersedes: Sequence[tuple[str, str]] = (),
    ) -> int:
        """Store rows made by ``event_rows`` with snapshots and cursors in one transaction. Events named in
        ``supersedes`` (another source's keys) are dropped and remembered, so they are not stored again;
        of these rows, those whose key was superseded earlier are not kept (not counted as written)."""
        # One order for every writer: concurrent upserts of overlapping keys cannot deadlock (PostgreSQL).
        rows.sort(key=_row_key)
        with self.engine.begin() as conn:
            changed = 0
            if not self.sqlite:  # no summary refresh between this write and its commit (refresh_summary)
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock_shared(%s)", (SUMMARY_LOCK,))
            if rows:
                self._mark_dirty(conn, {r[3] - r[3] % BUCKET_MS for r in rows})
                raw = conn.connection.driver_connection
                cur = raw.cursor()  # type: ignore[union-attr]
                before = raw.total_changes if self.sqlite else 0  # type: ignore[union-attr]
                cur.executemany(self._upsert_sql, rows)
                # psycopg sums the rowcount of every statement of an executemany; sqlite3 does not count upserts.
                changed = (raw.total_changes - before) if self.sqlite else cur.rowcount  # type: ignore[union-attr]
                cur.close()
                # After the upsert (which holds the write lock on SQLite): a key superseded meanwhile wins.
                changed -= self._drop_superseded(conn, source, [r[2] for r in rows])
                changed -= self._drop_archived(conn, source, rows)
            if supersedes:
                self._supersede(conn, source, supersedes)
            self._write_extras(conn, source, snapshots, cursors)
        return changed

    def _drop_superseded(self, conn: Connection, source: str, keys: list[str]) -> int:
        """Delete this source's rows among ``keys`` that a finer source replaced; returns how many."""
        ph = self._ph
        # Only ``record`` keys are ever superseded; every other source pays one index probe per batch.
        if conn.exec_driver_sql(f"SELECT 1 FROM superseded_keys WHERE source = {ph} LIMIT 1", (source,)).first() is None:
            return 0
        gone = 0
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            res = conn.exec_driver_sql(
                f"DELETE FROM usage_events WHERE source = {ph} AND dedupe_key IN ({', '.join([ph] * len(part))}) "
                f"AND dedupe_key IN (SELECT dedupe_key FROM superseded_keys WHERE source = {ph})",
                (source, *part, source),
            )
            gone += max(res.rowcount, 0)
        return gone

    # -- the usage summary (models.usage_summary) ---------------------------------------------------

    def _mark_dirty(self, conn: Connection, buckets: Iterable[int]) -> None:
        """The summary of these buckets is stale from this transaction on: readers read their events."""
        ph = self._ph
        conn.exec_driver_sql(
            f"INSERT INTO dirty_buckets (ts_ms) VALUES ({ph}) ON CONFLICT (ts_ms) DO NOTHING",
            [(b,) for b in sorted(buckets)],
        )

    def refresh_summary(self) -> int:
        """Rebuild the summary of every dirty bucket from its events and rollups; returns how many buckets.
        On PostgreSQL no write to the events is in flight meanwhile (writers hold the advisory lock shared,
        this holds it exclusively), so a bucket is never marked clean with a write it did not see; on
        SQLite the transaction starts with a write and so holds the one write lock throughout."""
        with self.engine.connect() as conn:
            if conn.exec_driver_sql("SELECT 1 FROM dirty_buckets LIMIT 1").first() is None:
                return 0
        from tokendash.accounting.aggregate import per_bucket
        from tokendash.store.reader import EngineReader

        keys = "host, source, provider, model, agent, project, cost_source"
        sums = "input, output, cache_read, cache_write, reasoning, cost_nusd"
        with self.engine.begin() as conn:
            if self.sqlite:
                conn.exec_driver_sql("DELETE FROM usage_summary WHERE ts_ms IN (SELECT ts_ms FROM dirty_buckets)")
            else:
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (SUMMARY_LOCK,))
                conn.exec_driver_sql("DELETE FROM usage_summary WHERE ts_ms IN (SELECT ts_ms FROM dirty_buckets)")
            r = EngineReader(conn)
            days = f"SELECT DISTINCT (ts_ms / {DAY_MS}) * {DAY_MS} AS day FROM dirty_buckets"
            ev_src, ev_on = per_bucket(r, "dirty_buckets d", "usage_events", "e",
                                       "{t}.ts_ms >= d.ts_ms AND {t}.ts_ms < d.ts_ms + " + str(BUCKET_MS))
            ro_src, ro_on = per_bucket(r, "dirty_buckets d", "usage_rollups", "r", "{t}.ts_ms = d.ts_ms")
            conn.exec_driver_sql(
                f"INSERT INTO usage_summary (ts_ms, {keys}, {sums}, requests) "
                f"SELECT b, {keys}, SUM(input), SUM(output), SUM(cache_read), SUM(cache_write), SUM(reasoning), "
                "SUM(cost_nusd), SUM(n) FROM ("
                f"SELECT d.ts_ms AS b, {keys}, {sums}, 1 AS n FROM {ev_src} WHERE {ev_on}true "
                f"UNION ALL SELECT d.ts_ms AS b, {keys}, {sums}, requests AS n FROM {ro_src} WHERE {ro_on}true"
                ") x GROUP BY b, host, source, provider, model, agent, project, cost_source"
            )
            summed = "SUM(input), SUM(output), SUM(cache_read), SUM(cache_write), SUM(reasoning), SUM(cost_nusd), " \
                     "SUM(requests)"
            cols = f"{sums}, requests"
            tot_src, tot_on = per_bucket(r, "dirty_buckets d", "usage_summary", "s", "{t}.ts_ms = d.ts_ms")
            day_src, day_on = per_bucket(r, f"({days}) dd", "usage_summary", "s",
                                         "{t}.ts_ms >= dd.day AND {t}.ts_ms < dd.day + " + str(DAY_MS))
            # Without dimensions, per bucket: from the rows just made.
            conn.exec_driver_sql("DELETE FROM usage_totals WHERE ts_ms IN (SELECT ts_ms FROM dirty_buckets)")
            conn.exec_driver_sql(
                f"INSERT INTO usage_totals (ts_ms, cost_source, {cols}) SELECT s.ts_ms, cost_source, {summed} "
                f"FROM {tot_src} WHERE {tot_on}true GROUP BY s.ts_ms, cost_source"
            )
            # Each UTC day holding a dirty bucket, from its buckets' rows.
            conn.exec_driver_sql(f"DELETE FROM usage_summary_day WHERE ts_ms IN ({days})")
            conn.exec_driver_sql(
                f"INSERT INTO usage_summary_day (ts_ms, {keys}, {cols}) SELECT dd.day, {keys}, {summed} "
                f"FROM {day_src} WHERE {day_on}true GROUP BY dd.day, {keys}"
            )
            n = conn.exec_driver_sql("DELETE FROM dirty_buckets").rowcount
        return max(n, 0)

    def _archive_limit(self, conn: Connection) -> int | None:
        """Keys of events older than this may have been archived (``store/archive.py``); None: none were.
        A day of margin past the archive's cut-off, in case a copy of an event carries a later time."""
        v = conn.exec_driver_sql("SELECT value FROM meta WHERE key = 'archive.before_ms'").scalar()
        return int(v) + 86_400_000 if v is not None else None

    def _drop_archived(self, conn: Connection, source: str, rows: list[tuple]) -> int:
        """Delete the rows just written whose key was archived (a log line read again after its event was
        folded into a rollup: it is counted there already); returns how many."""
        limit = self._archive_limit(conn)
        if limit is None:
            return 0
        keys = [r[2] for r in rows if r[3] < limit]
        ph, gone = self._ph, 0
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            inl = ", ".join([ph] * len(part))
            res = conn.exec_driver_sql(
                f"DELETE FROM usage_events WHERE source = {ph} AND dedupe_key IN ({inl}) AND dedupe_key IN "
                f"(SELECT dedupe_key FROM archived_keys WHERE source = {ph} AND dedupe_key IN ({inl}))",
                (source, *part, source, *part),
            )
            gone += max(res.rowcount, 0)
        return gone

    def _drop_archived_sqlite(self, conn: Connection, source: str) -> int:
        """``_drop_archived`` for rows merged from staging files (SQLite): the recent rows of this source
        whose key was archived. Only rows older than the limit are looked at (read through the time
        index: after an archive there are few), each probed in ``archived_keys``."""
        limit = self._archive_limit(conn)
        if limit is None:
            return 0
        res = conn.exec_driver_sql(
            "DELETE FROM usage_events WHERE id IN (SELECT e.id FROM usage_events e WHERE e.ts_ms < ? "
            "AND +e.source = ? AND EXISTS (SELECT 1 FROM archived_keys a WHERE a.source = e.source "
            "AND a.dedupe_key = e.dedupe_key))",
            (limit, source),
        )
        return max(res.rowcount, 0)

    def _supersede(self, conn: Connection, by_source: str, keys: Sequence[tuple[str, str]]) -> None:
        ph, t = self._ph, now_ms()
        uniq = sorted(set(keys))
        conn.exec_driver_sql(  # the buckets of the events about to go are dirty
            f"INSERT INTO dirty_buckets (ts_ms) SELECT DISTINCT (ts_ms / {BUCKET_MS}) * {BUCKET_MS} FROM usage_events "
            f"WHERE source = {ph} AND dedupe_key = {ph} ON CONFLICT (ts_ms) DO NOTHING",
            [(s, k) for s, k in uniq],
        )
        conn.exec_driver_sql(
            f"INSERT INTO superseded_keys (source, dedupe_key, by_source, ts_ms) VALUES ({ph}, {ph}, {ph}, {ph}) "
            "ON CONFLICT (source, dedupe_key) DO NOTHING",
            [(s, k, by_source, t) for s, k in uniq],
        )
        conn.exec_driver_sql(
            f"DELETE FROM usage_events WHERE source = {ph} AND dedupe_key = {ph}", [(s, k) for s, k in uniq]
        )

    def _write_extras(
        self, conn: Connection, source: str, snapshots: Iterable[Snapshot], cursors: Iterable[FileCursor]
    ) -> None:
        """Snapshots and file cursors, inside the caller's transaction."""
        host, ph = self.host, self._ph
        snap_rows = [
            (host, s.source, s.kind, s.key, s.ts_ms, json.dumps(s.data, sort_keys=True)) for s in snapshots
        ]
        cur_rows = [
            (source, c.path, c.dev, c.inode, c.size, c.mtime_ns, c.offset, c.parser_version, json.dumps(c.state))
            for c in cursors
        ]
        if snap_rows:
            conn.exec_driver_sql(
                f"INSERT INTO snapshots (host, source, kind, key, ts_ms, data) VALUES ({', '.join([ph] * 6)}) "
                "ON CONFLICT (source, kind, key, ts_ms) DO NOTHING",
                snap_rows,
            )
        if cur_rows:
            conn.exec_driver_sql(
                "INSERT INTO file_cursors (source, path, dev, inode, size, mtime_ns, \"offset\", parser_version, "
                f"state) VALUES ({', '.join([ph] * 9)}) ON CONFLICT (source, path) DO UPDATE SET "
                "dev = excluded.dev, inode = excluded.inode, size = excluded.size, mtime_ns = excluded.mtime_ns, "
                "\"offset\" = excluded.\"offset\", parser_version = excluded.parser_version, state = excluded.state",
                cur_rows,
            )

    def write_staged(
        self, source: str, staged: list[tuple[str, int, int]], snapshots: Iterable[Snapshot] = (),
        cursors: Iterable[FileCursor] = (),
    ) -> int:
        """Merge rows from worker staging files (``(path, first rowid, last rowid)``, see
        ``rows.StagingFile``) with their snapshots and cursors in one transaction (SQLite only)."""
        paths = sorted({p for p, _, _ in staged})
        alias = {p: f"staged{i}" for i, p in enumerate(paths)}
        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            for p in paths:  # ATTACH is not allowed inside a transaction
                raw.execute(f"ATTACH DATABASE ? AS {alias[p]}", (p,))  # type: ignore[union-attr]
            try:
                with conn.begin():
                    changed = 0
                    # One statement, sorted by key: inserts walk the unique index in order (a third of
                    # the cost of unsorted ones). A worker's ranges in one flush are consecutive.
                    ranges = _merge_ranges(staged)
                    for i in range(0, len(ranges), 200):  # SQLite allows 500 terms in a compound SELECT
                        part = ranges[i : i + 200]
                        union = " UNION ALL ".join(
                            f"SELECT {EVENT_COLS} FROM {alias[p]}.staged WHERE rowid BETWEEN ? AND ?" for p, _, _ in part
                        )
                        params = [x for _, first, last in part for x in (first, last)]
                        raw.execute(  # type: ignore[union-attr]
                            f"INSERT INTO dirty_buckets (ts_ms) SELECT DISTINCT (ts_ms / {BUCKET_MS}) * {BUCKET_MS} "
                            f"FROM ({union}) WHERE true ON CONFLICT (ts_ms) DO NOTHING",
                            params,
                        )
                        before = raw.total_changes  # type: ignore[union-attr]
                        raw.execute(  # type: ignore[union-attr]
                            # ``WHERE true``: SQLite's parser needs it before ON CONFLICT in INSERT … SELECT.
                            f"INSERT INTO usage_events ({EVENT_COLS}) SELECT * FROM ({union}) WHERE true "
                            f"ORDER BY dedupe_key {self._upsert_tail}",
                            params,
                        )
                        changed += raw.total_changes - before  # type: ignore[union-attr]
                    changed -= self._drop_archived_sqlite(conn, source)
                    self._write_extras(conn, source, snapshots, cursors)
            finally:
                for p in paths:
                    raw.execute(f"DETACH DATABASE {alias[p]}")  # type: ignore[union-attr]
        return changed

    def set_source_state(
        self,
        source: str,
        *,
        ok: bool,
        error: str | None = None,
        files: int | None = None,
        malformed_lines: int = 0,
        problems: Sequence[str] = (),
    ) -> None:
        t = now_ms()
        with self.engine.begin() as conn:
            # Write before reading: on SQLite a read-then-write transaction fails at once with "database
            # is locked" when another source commits in between; a first write waits its turn instead.
            conn.execute(text("UPDATE source_state SET items = items WHERE source = :s"), {"s": source})
            items = conn.execute(  # archived events count too (one key each in archived_keys)
                text("SELECT (SELECT COUNT(*) FROM usage_events WHERE source = :s) + "
                     "(SELECT COUNT(*) FROM archived_keys WHERE source = :s)"), {"s": source}
            ).scalar_one()
            prev = conn.execute(select(m.source_state).where(m.source_state.c.source == source)).first()
            values: dict[str, Any] = {
                "last_poll_ms": t,
                "error": error,
                "items": items,
                "files": files if files is not None else (prev.files if prev else 0),
                "malformed_lines": (prev.malformed_lines if prev else 0) + malformed_lines,
                "problems": json.dumps(list(problems)[-20:]) if problems or not prev else prev.problems,
            }
            if ok:
                values["last_success_ms"] = t
            if prev is None:
                conn.execute(m.source_state.insert().values(source=source, **values))
            else:
                conn.execute(m.source_state.update().where(m.source_state.c.source == source).values(**values))

    # -- reads ----------------------------------------------------------------------------------

    def load_cursors(self, source: str) -> dict[str, FileCursor]:
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                f"SELECT {CURSOR_COLS} FROM file_cursors WHERE source = {self._ph}", (source,)
            ).all()
        return {r[0]: cursor_from_row(tuple(r)) for r in rows}

    def source_states(self) -> dict[str, SourceStateRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(m.source_state)).all()
        return {
            r.source: SourceStateRow(
                r.source, r.last_poll_ms, r.last_success_ms, r.error, r.items, r.files, r.malformed_lines,
                json.loads(r.problems or "[]"),
            )
            for r in rows
        }

    def latest_snapshots(self, kind: str) -> list[dict[str, Any]]:
        """The newest snapshot of each key of a kind."""
        sql = text(
            "SELECT s.source, s.key, s.ts_ms, s.data FROM snapshots s JOIN (SELECT source, key, MAX(ts_ms) AS t "
            "FROM snapshots WHERE kind = :k GROUP BY source, key) x ON s.source = x.source AND s.key = x.key "
            "AND s.ts_ms = x.t WHERE s.kind = :k ORDER BY s.source, s.key"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(sql, {"k": kind}).all()
        return [{"source": r.source, "key": r.key, "tsMs": r.ts_ms, "data": json.loads(r.data)} for r in rows]

    def count_events(self, conn: Connection | None = None) -> int:
        q = text("SELECT COUNT(*) FROM usage_events")
        if conn is not None:
            return conn.execute(q).scalar_one()
        with self.engine.connect() as c:
            return c.execute(q).scalar_one()
