"""The in-memory dashboard: readers never wait, a burst of changes is one rebuild, a failed rebuild
keeps the last good dashboard."""

from __future__ import annotations

import threading
import time
from typing import Any

from tokendash.server.cache import SummaryCache


def summary(n: int) -> dict[str, Any]:
    return {"timestamp": f"t{n}", "stale": False, "currency": "USD", "providers": [], "totalDailyCostUsd": 0.0,
            "sources": []}


def test_a_burst_of_changes_is_one_rebuild() -> None:
    builds: list[float] = []

    def build() -> dict[str, Any]:
        builds.append(time.monotonic())
        return summary(len(builds))

    cache = SummaryCache(build, min_interval=0.5)
    cache.start()
    try:
        assert cache.wait_for(1, 5) and len(builds) == 1
        last = 0
        for _ in range(20):  # twenty records in 0.2 s
            last = cache.invalidate()
            time.sleep(0.01)
        assert cache.wait_for(last, 5)
        assert len(builds) == 2  # the first build, then one for all twenty
        assert builds[1] - builds[0] >= 0.5
        assert cache.snapshot is not None and cache.snapshot.json.value["timestamp"] == "t2"
    finally:
        cache.stop()


def test_a_failed_rebuild_keeps_the_last_good_dashboard() -> None:
    fail = threading.Event()

    def build() -> dict[str, Any]:
        if fail.is_set():
            raise RuntimeError("store went away")
        return summary(1)

    cache = SummaryCache(build, min_interval=0.0)
    cache.start()
    try:
        assert cache.wait_for(1, 5)
        fail.set()
        assert cache.wait_for(cache.invalidate(), 5)
        assert cache.snapshot is not None and cache.snapshot.json.value["timestamp"] == "t1"
        assert cache.last_error == "RuntimeError: store went away"
        assert b'"text"' in cache.snapshot.text.json and b'"text"' not in cache.snapshot.json.json
    finally:
        cache.stop()


def test_usage_answers_are_kept_until_the_data_changes(tmp_path: Any) -> None:
    # A report is a full scan; the sidecar answers a repeated one from memory, and a write (here a
    # record; a source pass goes through the same signal) makes the next answer include it.
    from tests.sidecar.harness import RunningSidecar, make_app

    app = make_app(tmp_path)
    sidecar = RunningSidecar(app, []).start()
    try:
        def record(key: str, tokens: int) -> None:
            sidecar.rpc("token-dashboard.record", {"events": [
                {"idempotencyKey": key, "provider": "openai", "model": "gpt-4o", "input": tokens}]})

        record("a", 100)
        params = {"groupBy": ["provider"], "since": "all"}
        first = sidecar.rpc("token-dashboard.usage", params)
        assert first["totals"]["tokens"]["input"] == 100
        assert sidecar.ctx._memo  # the answer is kept
        assert sidecar.rpc("token-dashboard.usage", params) == first
        record("b", 23)
        assert sidecar.rpc("token-dashboard.usage", params)["totals"]["tokens"]["input"] == 123
    finally:
        sidecar.stop()
