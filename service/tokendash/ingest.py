"""One pass over sources: poll → price → store. Each batch is committed with its cursors, so an
interrupted pass (even ``kill -9``) resumes exactly where the last committed batch ended.

A large pass of a partitioned source (Claude Code's hundreds of files) runs in worker processes, each
reading, pricing and storing whole files: nothing but small counters crosses a process boundary, and
the store's upsert on the dedupe key makes the order in which workers commit irrelevant.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tokendash.pricing.prices import PriceBook
from tokendash.sources.base import PartitionedSource, PollBatch, Source
from tokendash.store.rows import StagingFile, event_rows

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
    return store.write_batch(source_id, priced, batch.snapshots, batch.cursors, batch.supersedes)


def ingest_source(
    store: Store | LazyStore, prices: PriceBook, source: Source, progress: Progress | None = None,
    workers: int | None = None, pool: ParsePool | None = None,
) -> IngestResult:
    res = IngestResult(source.id)
    lazy = _lazy(store)
    try:
        cursors = lazy.load_cursors(source.id)
        workers = pool.size if pool is not None else workers if workers is not None else default_workers()
        plan = source.plan(cursors) if isinstance(source, PartitionedSource) else None
        if plan is not None and workers > 1 and len(plan.units) > 1 and sum(plan.sizes) >= PARALLEL_MIN_BYTES:
            _parallel(lazy, prices, source, plan, workers, res, progress, pool)
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
    try:  # the summary reports read (store/repo.py): rebuilt for the buckets written since the last pass
        lazy.get().refresh_summary()
    except Exception as e:  # reports read a dirty bucket's events meanwhile: slower, never wrong
        import logging

        logging.getLogger("tokendash.ingest").warning("summary not refreshed: %s: %s", type(e).__name__, e)
    return res


def default_workers() -> int:
    return min(os.cpu_count() or 1, 4)


class ParsePool:
    """Parse workers, forked once. ``tokendash ingest`` forks them first thing, before the settings, the
    store (SQLAlchemy, migrations) and the price data are loaded: the workers load the price data and
    start parsing while this process loads the rest, instead of one core idling through that start-up."""

    def __init__(self, size: int | None = None) -> None:
        import multiprocessing as mp

        self.size = size or default_workers()
        self._pool = mp.get_context("fork").Pool(self.size, initializer=_load_parse_modules)
        self._used = False

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterable[Any]:
        self._used = True
        return self._pool.imap_unordered(fn, items, chunksize=1)

    def close(self) -> None:
        if not self._used:  # nothing was asked of it: do not wait for the workers' start-up loads
            self._pool.terminate()
        else:
            self._pool.close()
        self._pool.join()

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        else:
            self._pool.terminate()


def _load_parse_modules() -> None:
    """Worker start-up, while the parent loads its settings: the parser and the price data (~0.25 s)."""
    import tokendash.sources.claude_code  # noqa: F401
    from tokendash.pricing.prices import PriceBook

    PriceBook().warm()


# Worker side: each task carries the pickled (source, prices, host) of its pass, decoded once per worker.
_CONTEXT: dict[bytes, tuple[Any, PriceBook, str, str | None]] = {}


@dataclass
class _UnitResult:
    rows: list[tuple]  # the rows themselves, or nothing when they went to a staging file:
    staged: tuple[str, int, int] | None  # (staging file, first rowid, last rowid)
    snapshots: list[Any]
    cursors: list[Any]
    bytes_read: int
    seen: int
    malformed: int
    problems: list[str]


def _run_unit(task: tuple[bytes, bytes, Any]) -> _UnitResult:
    """Read and price one unit in a worker; the parent stores it. A single writer keeps SQLite's page
    cache warm (two writing connections invalidate each other's on every commit)."""
    token, payload, unit = task
    ctx = _CONTEXT.get(token)
    if ctx is None:
        _CONTEXT.clear()
        ctx = _CONTEXT[token] = pickle.loads(payload)
    source, prices, host, staging_dir = ctx
    price = prices.price
    out = _UnitResult([], None, [], [], 0, 0, 0, [])
    for batch in source.poll_unit(unit):
        out.rows.extend(event_rows(host, [(e, price(e)) for e in batch.events]))
        out.snapshots.extend(batch.snapshots)
        out.cursors.extend(batch.cursors)
        out.bytes_read += batch.bytes_read
        out.seen += len(batch.events)
        out.malformed += batch.malformed_lines
        out.problems.extend(batch.problems)
    if staging_dir is not None and out.rows:
        global _STAGING
        if _STAGING is None or os.path.dirname(_STAGING.path) != staging_dir:
            _STAGING = StagingFile(os.path.join(staging_dir, f"worker-{os.getpid()}.db"))
        first, last = _STAGING.add(out.rows)
        out.rows, out.staged = [], (_STAGING.path, first, last)
    return out


_STAGING: StagingFile | None = None


def _staging_dir(url: str) -> str | None:
    """A fresh folder for this pass's staging files beside a SQLite store (None for other stores, which
    get the rows themselves). Folders left by a pass that was killed are removed first."""
    import shutil
    import tempfile

    from tokendash.store.reader import sqlite_path

    path = sqlite_path(url)
    if path is None:
        return None
    parent = os.path.join(os.path.dirname(os.path.abspath(path)), "staging")
    os.makedirs(parent, mode=0o700, exist_ok=True)
    for name in os.listdir(parent):
        pid = name.partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
    return tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=parent)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _parallel(
    lazy: LazyStore, prices: PriceBook, source: Any, plan: Any, workers: int, res: IngestResult,
    progress: Progress | None, pool: ParsePool | None = None,
) -> None:
    first = PollBatch(files=plan.files, planned_bytes=sum(plan.sizes), problems=plan.problems)
    res.add(first, 0)
    if progress is not None:
        progress(source.id, first, 0)
    own_pool = pool is None
    if own_pool and lazy.opened:
        prices.warm()  # forked now: the workers share the price data this process holds
        lazy.get().engine.dispose()  # no open connection may cross the fork (workers never touch it)
    # On SQLite, workers hand their rows over in staging files (see rows.StagingFile) next to the store.
    staging = _staging_dir(lazy.url)
    payload = pickle.dumps((source, prices, lazy.host, staging))
    token = hashlib.sha256(payload).digest()
    tasks = [(token, payload, unit) for unit in plan.units]
    limit = getattr(source, "batch_events", 10_000)
    planned, done = sum(plan.sizes), 0
    # Staged rows are not held in this process, so early transactions can be larger (fewer commits, each
    # rewriting the touched index pages); near the end they are small, so little is left to write once
    # the last worker finishes.
    big = limit * 4 if staging is not None else limit
    pending: list[_UnitResult] = []
    queued = 0

    def flush() -> None:
        nonlocal queued
        if not pending:
            return
        snapshots = [s for u in pending for s in u.snapshots]
        cursors = [c for u in pending for c in u.cursors]
        staged = [u.staged for u in pending if u.staged is not None]
        if staged:
            res.events_written += store.write_staged(source.id, staged, snapshots, cursors)
            snapshots, cursors = [], []
        rows = [r for u in pending for r in u.rows]
        if rows or snapshots or cursors:
            res.events_written += store.write_rows(source.id, rows, snapshots, cursors)
        pending.clear()
        queued = 0

    with contextlib.ExitStack() as stack:
        if staging is not None:
            import shutil

            stack.callback(shutil.rmtree, staging, ignore_errors=True)
        if pool is None:
            pool = stack.enter_context(ParsePool(workers))
        results = pool.imap_unordered(_run_unit, tasks)
        store = lazy.get()  # opened (and migrated) while the workers parse
        for unit in results:
            pending.append(unit)
            queued += len(unit.rows) + (unit.staged[2] - unit.staged[1] + 1 if unit.staged else 0)
            res.bytes_read += unit.bytes_read
            res.events_seen += unit.seen
            res.malformed_lines += unit.malformed
            res.problems.extend(unit.problems)
            done += unit.bytes_read
            if queued >= (big if done < planned * 0.85 else limit):
                flush()
            if progress is not None:
                progress(source.id, PollBatch(bytes_read=unit.bytes_read), unit.seen)
        flush()  # before the staging files go


def ingest(
    store: Store | LazyStore, prices: PriceBook, sources: Iterable[Source], progress: Progress | None = None,
    pool: ParsePool | None = None,
) -> list[IngestResult]:
    return [ingest_source(store, prices, s, progress, pool=pool) for s in sources]
