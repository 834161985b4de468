"""The methods' ``Context`` inside the sidecar: reads come from the in-memory dashboard, refreshes go
through the scheduler (single flight), and ``status`` answers within its timeout whatever a source does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import wait
from typing import Any

from tokendash.api.context import refresh_result
from tokendash.api.methods import summary
from tokendash.errors import Unavailable
from tokendash.server.cache import Snapshot, SummaryCache, with_format, with_stale
from tokendash.server.delivery import DeliveryWorker
from tokendash.server.scheduler import Scheduler

RECORD_WAIT_SECONDS = 5.0
MEMO_ENTRIES = 64
WARMING_UP = "the dashboard is still being built from the store; try again in a moment"


class ServerContext:
    def __init__(self, app: Any, sources: list[Any] | None = None) -> None:
        self.app = app
        self.sources = list(app.sources() if sources is None else sources)
        self.cache = SummaryCache(self._build)
        self.scheduler = Scheduler(app, self.sources, self._data_changed)
        # Webhooks: the outbox the dashboard builds fill (alert transitions) and the digest.
        self.delivery = DeliveryWorker(app, lambda: self.cache.snapshot.json.value if self.cache.snapshot else None)
        # ``usage`` answers by resolved query, until the data changes (a report is a full scan).
        self._memo: dict[Any, Any] = {}
        self._memo_gen = 0
        self._memo_lock = threading.Lock()

    def _build(self) -> dict[str, Any]:
        value = summary(self.app, sources=self.sources)
        self.delivery.wake()  # the build may have queued alert transitions
        return value

    def _data_changed(self) -> int:
        with self._memo_lock:
            self._memo.clear()
            self._memo_gen += 1
        return self.cache.invalidate()

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self._memo_lock:
            if key in self._memo:
                return self._memo[key]
            gen = self._memo_gen
        value = compute()
        with self._memo_lock:
            if gen == self._memo_gen:  # nothing changed while it was computed
                if len(self._memo) >= MEMO_ENTRIES:
                    self._memo.pop(next(iter(self._memo)))
                self._memo[key] = value
        return value

    def start(self) -> None:
        self.cache.start()
        self.scheduler.start()
        self.delivery.start()

    def stop(self, timeout: float) -> list[str]:
        busy = self.scheduler.stop(timeout)
        self.cache.stop()
        # The request in hand finishes and its outcome is stored; what is left is sent after the next start.
        self.delivery.stop(self.app.settings.delivery.timeout_seconds + 5)
        return busy

    @property
    def ready(self) -> bool:
        return self.cache.snapshot is not None

    def _snapshot(self, wait_s: float = 0.0) -> Snapshot:
        snap = self.cache.snapshot
        if snap is None and wait_s > 0:
            self.cache.wait_for(1, wait_s)
            snap = self.cache.snapshot
        if snap is None:
            raise Unavailable(WARMING_UP)
        return snap

    # -- Context ------------------------------------------------------------------------------

    def cached(self, fmt: str) -> Any:
        return self._snapshot().get(fmt)

    def summary(self) -> dict[str, Any]:
        return self._snapshot().json.value

    def status(self, *, max_age: float, refresh: bool, timeout: float, fmt: str, host: str | None = None) -> Any:
        deadline = time.monotonic() + timeout
        futs = self.scheduler.request(None, None if refresh else max_age)
        if futs:
            wait(list(futs.values()), timeout=timeout)
        pending = [sid for sid, f in futs.items() if not f.done()]
        wrote = [f.result() for f in futs.values() if f.done()]
        # The refreshed figures must be in the answer: wait for the rebuild, within the same deadline.
        if any(r.events_written or not r.ok for r in wrote) and not self.cache.wait_for(
            self.cache.invalidate(), max(0.0, deadline - time.monotonic())
        ):
            pending = list(futs)
        if host is not None:  # one host of a team store: not what the cache holds, built for this call
            value = summary(self.app, sources=self.sources, host=host)
            return with_stale(value, pending, fmt) if pending else with_format(value, fmt)
        snap = self._snapshot(max(0.0, deadline - time.monotonic()))
        if pending:
            return with_stale(snap.json.value, pending, fmt)
        return snap.get(fmt)

    def refresh(self, sources: list[str] | None, timeout: float, wait_dashboard: bool = True) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        futs = self.scheduler.request(sources)
        wait(list(futs.values()), timeout=timeout)
        out = []
        for sid, f in futs.items():
            if f.done():
                out.append(refresh_result(f.result()))
            else:
                out.append({"source": sid, "ok": False, "items": 0,
                            "error": f"{sid}: still running after {timeout:g} s (it goes on in the background)"})
        version = self.cache.invalidate()
        if wait_dashboard:  # read your writes in `cached`; `tokendash ingest` only needs them stored
            self.cache.wait_for(version, max(0.0, deadline - time.monotonic()))
        return out

    def changed(self) -> None:
        # Read your writes: the next read after a record sees it (bounded; the rebuild goes on anyway).
        self.cache.wait_for(self._data_changed(), RECORD_WAIT_SECONDS)

    def invalidate(self) -> None:
        self._data_changed()

    def source_ids(self) -> list[str]:
        return [s.id for s in self.sources]
