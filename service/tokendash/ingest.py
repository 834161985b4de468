"""One pass over sources: poll → price → store. Each batch is committed with its cursors, so an
interrupted pass (even ``kill -9``) resumes exactly where the last committed batch ended.

A large pass of a partitioned source (Claude Code's hundreds of files) runs in worker processes, each
reading, pricing and storing whole files: nothing but small counters crosses a process boundary, and
the store's upsert on the dedupe key makes the order in which workers commit irrelevant.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tokendash.pricing.prices import PriceBook
from tokendash.sources.base import PartitionedSource, PollBatch, Source
from tokendash.store.rows import event_rows

if TYPE_CHECKING:
    from tokendash.store.repo import Store

Progress = Callable[[str, PollBatch, int], None]  # (source, batch, events read)


class LazyStore:
    """The store of a pass, opened on first use. A cold pass forks its parse workers first and opens
    the store (SQLAlchemy, migrations) while they work, instead of before: on two cores that start-up
    is otherwise a second in which one core idles. ``url`` and ``host`` are what the pass needs before
    the store is open (the cursors, read with plain sqlite3, and the host id of the rows)."""

    def __init__(self, open_store: Callable[[], Store], url: str, host: str) -> None:
        self._open = open_store
        self._store: Store | None = None
        self.url = url
        self.host = host

    @property
    def opened(self) -> bool:
        return self._store is not None

    def get(self) -> Store:
        if self._store is None:
            self._store = self._open()
        return self._store

    def load_cursors(self, source: str) -> dict:
        from tokendash.store.rows import sqlite_cursors

        if self._store is None:
            early = sqlite_cursors(self.url, source)
            if early is not None:
                return early
        return self.get().load_cursors(source)


def _lazy(store: Store | LazyStore) -> LazyStore:
    if isinstance(store, LazyStore):
        return store
    lazy = LazyStore(lambda: store, "", store.host)
    lazy._store = store
    return lazy

PARALLEL_MIN_BYTES = 16 * 1024 * 1024  # below this, forking costs more than it saves


@dataclass
class IngestResult:
    source: str
    ok: bool = True
    error: str | None = None
    files: int = 0
    bytes_read: int = 0
    events_seen: int = 0
    events_written: int = 0
    snapshots: int = 0
    malformed_lines: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "source": self.source, "ok": self.ok, "error": self.error, "files": self.files,
            "bytesRead": self.bytes_read, "eventsSeen": self.events_seen, "items": self.events_written,
            "snapshots": self.snapshots, "malformedLines": self.malformed_lines, "problems": self.problems,
        }

    def add(self, batch: PollBatch, written: int) -> None:
        self.events_written += written
        self.events_seen += len(batch.events)
        self.snapshots += len(batch.snapshots)
        self.files += batch.files
        self.bytes_read += batch.bytes_read
        self.malformed_lines += batch.malformed_lines
        self.problems.extend(batch.problems)


def _store_batch(store: Store, prices: PriceBook, source_id: str, batch: PollBatch) -> int:
    priced = [(e, prices.price(e)) for e in batch.events]
    return store.write_batch(source_id, priced, batch.snapshots, batch.cursors)


def ingest_source(
    store: Store | LazyStore, prices: PriceBook, source: Source, progress: Progress | None = None,
    workers: int | None = None,
) -> IngestResult:
    res = IngestResult(source.id)
    lazy = _lazy(store)
    try:
        cursors = lazy.load_cursors(source.id)
        workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
        plan = source.plan(cursors) if isinstance(source, PartitionedSource) else None
        if plan is not None and workers > 1 and len(plan.units) > 1 and sum(plan.sizes) >= PARALLEL_MIN_BYTES:
            _parallel(lazy, prices, source, plan, workers, res, progress)
        else:
            for batch in source.poll(cursors):
                res.add(batch, _store_batch(lazy.get(), prices, source.id, batch))
                if progress is not None:
                    progress(source.id, batch, len(batch.events))
    except Exception as e:  # one source failing never stops the others
        res.ok = False
        res.error = f"{source.id}: {type(e).__name__}: {e}"
    lazy.get().set_source_state(
        source.id, ok=res.ok, error=res.error, files=res.files if res.ok else None,
        malformed_lines=res.malformed_lines, problems=res.problems,
    )
    return res


# Worker side. Set in the parent just before the fork and inherited (nothing is pickled but the unit).
_WORKER: dict[str, Any] = {}


@dataclass
class _UnitResult:
    rows: list[tuple]
    snapshots: list[Any]
    cursors: list[Any]
    bytes_read: int
    seen: int
    malformed: int
    problems: list[str]


def _run_unit(unit: Any) -> _UnitResult:
    """Read and price one unit in a worker; the parent stores it. A single writer keeps SQLite's page
    cache warm (two writing connections invalidate each other's on every commit)."""
    source, prices, host = _WORKER["source"], _WORKER["prices"], _WORKER["host"]
    price = prices.price
    out = _UnitResult([], [], [], 0, 0, 0, [])
    for batch in source.poll_unit(unit):
        out.rows.extend(event_rows(host, [(e, price(e)) for e in batch.events]))
        out.snapshots.extend(batch.snapshots)
        out.cursors.extend(batch.cursors)
        out.bytes_read += batch.bytes_read
        out.seen += len(batch.events)
        out.malformed += batch.malformed_lines
        out.problems.extend(batch.problems)
    return out


def _parallel(
    lazy: LazyStore, prices: PriceBook, source: Any, plan: Any, workers: int, res: IngestResult,
    progress: Progress | None,
) -> None:
    import multiprocessing as mp

    first = PollBatch(files=plan.files, planned_bytes=sum(plan.sizes), problems=plan.problems)
    res.add(first, 0)
    if progress is not None:
        progress(source.id, first, 0)
    # With the store still closed, the workers load the price data themselves while this process opens
    # the store; with it open (an earlier source), they share what is loaded already.
    if lazy.opened:
        prices.warm()
        lazy.get().engine.dispose()  # no open connection may cross the fork (workers never touch it)
    _WORKER.clear()
    _WORKER.update(source=source, prices=prices, host=lazy.host)
    limit = getattr(source, "batch_events", 10_000)
    pending: list[_UnitResult] = []
    queued = 0

    def flush() -> None:
        nonlocal queued
        if not pending:
            return
        rows = [r for u in pending for r in u.rows]
        res.events_written += store.write_rows(
            source.id, rows, [s for u in pending for s in u.snapshots], [c for u in pending for c in u.cursors]
        )
        pending.clear()
        queued = 0

    try:
        with mp.get_context("fork").Pool(workers) as pool:
            results = pool.imap_unordered(_run_unit, plan.units, chunksize=1)
            store = lazy.get()  # opened (and migrated) while the workers parse
            for unit in results:
                pending.append(unit)
                queued += len(unit.rows)
                res.bytes_read += unit.bytes_read
                res.events_seen += unit.seen
                res.malformed_lines += unit.malformed
                res.problems.extend(unit.problems)
                if queued >= limit:
                    flush()
                if progress is not None:
                    progress(source.id, PollBatch(bytes_read=unit.bytes_read), unit.seen)
        flush()
    finally:
        _WORKER.clear()


def ingest(
    store: Store | LazyStore, prices: PriceBook, sources: Iterable[Source], progress: Progress | None = None
) -> list[IngestResult]:
    return [ingest_source(store, prices, s, progress) for s in sources]
