"""The scheduler (SPEC §4): one thread per source, each on its own interval (local sources every few
seconds, API sources every ``pollIntervalMinutes``), with exponential backoff after failures. A slow or
hanging source holds only its own thread, never another source or a read.

Refreshes are single-flight: ``request()`` returns the run in progress, or the next run, of a source,
and every caller waits on that same future. On stop, a source finishes the batch it is writing (each
batch is committed with its cursors) and reads no further, so the store stays consistent and the next
start resumes exactly there.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from typing import Any

from tokendash.ingest import IngestResult, ingest_source

log = logging.getLogger("tokendash.server")

MAX_BACKOFF_FACTOR = 32  # after failures, wait up to 32× the interval (capped below)
MAX_BACKOFF_SECONDS = 3600.0


class Interrupted(Exception):
    """A pass cut short by shutdown (recorded as the source's error until its next pass)."""


class _StopAfterBatch:
    """A source that stops reading, between batches, once the sidecar is stopping. It is deliberately not
    a PartitionedSource: inside a threaded server a pass is never forked into worker processes."""

    def __init__(self, source: Any, stop: threading.Event) -> None:
        self._source = source
        self._stop = stop
        self.id = source.id
        self.kind = source.kind

    def configured(self) -> bool:
        return bool(self._source.configured())

    def poll(self, cursors: Mapping[str, Any]) -> Iterator[Any]:
        gen = self._source.poll(cursors)
        try:
            for batch in gen:
                yield batch  # ingest_source commits it before asking for the next one
                if self._stop.is_set():
                    raise Interrupted("stopped by shutdown after a committed batch; the next pass resumes there")
        finally:
            gen.close()


class SourceWorker:
    def __init__(self, source: Any, interval: float, run: Callable[[Any], IngestResult],
                 on_done: Callable[[IngestResult, bool], None], stop: threading.Event) -> None:
        self.source = source
        self.id: str = source.id
        self.interval = interval
        self._run = run
        self._on_done = on_done
        self._stop = stop
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._next: Future[IngestResult] | None = None  # the run that request() callers wait for
        self.running = False
        self.failures = 0
        self.last_end: float | None = None  # monotonic time of the last finished run
        self.last_result: IngestResult | None = None
        self.thread = threading.Thread(target=self._loop, name=f"tokendash-source-{self.id}", daemon=True)

    def age(self) -> float:
        return float("inf") if self.last_end is None else time.monotonic() - self.last_end

    def request(self) -> Future[IngestResult]:
        """The run in progress, or else the next one, started now."""
        with self._lock:
            if self._next is None:
                self._next = Future()
            fut = self._next
            if not self.running:  # a run in progress is shared, and must not be followed by another
                self._wake.set()
        return fut

    def delay(self) -> float:
        if not self.failures:
            return self.interval
        backoff = min(self.interval * min(2**self.failures, MAX_BACKOFF_FACTOR), MAX_BACKOFF_SECONDS)
        return max(self.interval, backoff * random.uniform(0.8, 1.0))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._wake.wait(self.delay())
            self._wake.clear()

    def run_once(self) -> None:
        with self._lock:
            if self._next is None:
                self._next = Future()
            fut = self._next
            self.running = True
        fut.set_running_or_notify_cancel()
        try:
            res = self._run(self.source)
        except Exception as e:  # ingest_source catches source errors; this is a bug or a store failure
            res = IngestResult(self.id, ok=False, error=f"{self.id}: {type(e).__name__}: {e}")
        prev = self.last_result
        with self._lock:
            self._next = None
            self.running = False
            self.last_end = time.monotonic()
            self.last_result = res
            self.failures = 0 if res.ok else self.failures + 1
        changed = res.events_written > 0 or prev is None or prev.ok != res.ok or prev.error != res.error
        fut.set_result(res)
        self._on_done(res, changed)
        if not res.ok:
            log.warning("source %s failed (%d in a row): %s", self.id, self.failures, res.error)


class Scheduler:
    def __init__(self, app: Any, sources: list[Any], on_change: Callable[[], Any]) -> None:
        self.app = app
        self.stopping = threading.Event()
        self._on_change = on_change
        s = app.settings
        self.workers: dict[str, SourceWorker] = {}
        for src in sources:
            interval = s.local_poll_seconds if src.kind == "local" else s.poll_interval_minutes * 60
            self.workers[src.id] = SourceWorker(src, interval, self._ingest, self._done, self.stopping)

    def _ingest(self, source: Any) -> IngestResult:
        if not source.configured():
            return IngestResult(source.id)  # nothing to read (yet): not a failure, nothing recorded
        return ingest_source(self.app.store, self.app.prices, _StopAfterBatch(source, self.stopping), workers=1)

    # Retention (SPEC §12): once a day, raw events older than historyRetentionDays are folded into
    # rollups (``store/archive.py``). Checked every hour; on a team store the sidecar that finds it due
    # first does it (the others see the last run in the store). Reports give the same figures after it,
    # so the dashboard need not be rebuilt.
    ARCHIVE_FIRST_DELAY = 300.0  # after start: let the first ingest passes have the store
    ARCHIVE_CHECK_EVERY = 3600.0

    def _archive_loop(self) -> None:
        from tokendash.store.archive import archive, raw_days

        delay = self.ARCHIVE_FIRST_DELAY
        while not self.stopping.wait(delay):
            delay = self.ARCHIVE_CHECK_EVERY
            try:
                res = archive(self.app.store.engine, retention_days=raw_days(self.app.settings), auto=True,
                              stop=self.stopping)
                if res.events:
                    log.info("archive: folded %d events before %s into %d rollup rows", res.events, res.cutoff,
                             res.rollup_rows)
            except Exception:
                log.exception("archive failed (retried in an hour)")

    def _done(self, res: IngestResult, changed: bool) -> None:
        if changed:
            self._on_change()

    def start(self) -> None:
        for w in self.workers.values():
            w.thread.start()
        self._archiver = threading.Thread(target=self._archive_loop, name="tokendash-archive", daemon=True)
        self._archiver.start()

    def request(self, ids: list[str] | None = None, max_age: float | None = None) -> dict[str, Future[IngestResult]]:
        """Ask the chosen sources (all by default) that are older than ``max_age`` to refresh now."""
        chosen = [self.workers[i] for i in ids] if ids is not None else list(self.workers.values())
        return {w.id: w.request() for w in chosen if max_age is None or w.age() > max_age}

    def stop(self, timeout: float) -> list[str]:
        """Let every source finish the batch in hand; returns the ids still busy after ``timeout``."""
        self.stopping.set()
        for w in self.workers.values():
            w._wake.set()
        deadline = time.monotonic() + timeout
        for w in self.workers.values():
            w.thread.join(max(0.0, deadline - time.monotonic()))
        archiver = getattr(self, "_archiver", None)
        if archiver is not None:  # stops between two days of a run
            archiver.join(max(0.0, deadline - time.monotonic()))
        return [w.id for w in self.workers.values() if w.thread.is_alive()]
