"""One slow source never delays another, nor a read (SPEC §4, §8): a source that hangs for 30 s while
Claude Code logs arrive; ``status`` with a 1 s timeout; single-flight refreshes; backoff after failures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc  # noqa: F401  (the harness's gRPC client)
import pytest

from tests.sidecar.harness import RunningSidecar, make_app, recent_day
from tests.support import gen_corpus
from tokendash.api._pb import token_dashboard_service_pb2 as pb
from tokendash.server.scheduler import Scheduler, SourceWorker


class HangingSource:
    """An API source whose poll hangs for 30 s (until released at the end of the test)."""

    id = "slow-api"
    kind = "api"

    def __init__(self, seconds: float = 30) -> None:
        self.seconds = seconds
        self.started = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()

    def configured(self) -> bool:
        return True

    def poll(self, cursors: Mapping[str, Any]) -> Iterator[Any]:
        self.started.set()
        self.release.wait(self.seconds)
        self.finished.set()
        yield from ()


class CountingSource:
    """Takes ``seconds`` per poll and counts its polls."""

    kind = "api"

    def __init__(self, sid: str, seconds: float = 0.0, fail: bool = False) -> None:
        self.id = sid
        self.seconds = seconds
        self.fail = fail
        self.polls = 0

    def configured(self) -> bool:
        return True

    def poll(self, cursors: Mapping[str, Any]) -> Iterator[Any]:
        self.polls += 1
        time.sleep(self.seconds)
        if self.fail:
            raise RuntimeError("upstream down")
        yield from ()


def wait_until(pred: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def hanging(tmp_path: Path) -> Iterator[tuple[RunningSidecar, HangingSource, Path]]:
    claude = tmp_path / "claude"
    claude.mkdir()
    app = make_app(tmp_path, claude, local_poll_seconds=0.2)
    hang = HangingSource()
    running = RunningSidecar(app, [*app.sources(["claude-code"]), hang]).start()
    yield running, hang, claude
    hang.release.set()
    running.stop()


def test_a_hanging_source_delays_neither_cached_nor_another_source(hanging: tuple) -> None:
    sidecar, hang, claude = hanging
    assert hang.started.wait(10)
    wait_until(lambda: sidecar.get("/readyz", sidecar.token)[0] == 200, 10, "the first dashboard")
    for _ in range(20):
        t0 = time.monotonic()
        summary = sidecar.rpc("token-dashboard.cached")
        assert time.monotonic() - t0 < 0.5
        assert summary["sources"]
    # Claude Code logs appear while the other source hangs: they are read within a few polls.
    manifest = gen_corpus(claude, files=2, assistant_lines=60, seed=5, end_date=recent_day(), days=2)
    want = manifest["dedupTotals"]["entries"]

    def claude_items() -> int:
        src = {s["id"]: s for s in sidecar.rpc("token-dashboard.cached")["sources"]}
        return src["claude-code"]["items"] if src["claude-code"]["ok"] else 0

    wait_until(lambda: claude_items() == want, 15, "Claude Code events in the dashboard")
    totals = sidecar.rpc("token-dashboard.usage", {"groupBy": ["source"]})["totals"]["tokens"]
    assert totals["input"] == manifest["dedupTotals"]["inputTokens"]
    assert totals["output"] == manifest["dedupTotals"]["outputTokens"]
    assert not hang.finished.is_set()  # all of that happened while the slow source still hung


def test_status_answers_within_its_timeout_with_the_slow_part_flagged(hanging: tuple) -> None:
    sidecar, hang, _ = hanging
    assert hang.started.wait(10)
    wait_until(lambda: sidecar.get("/readyz", sidecar.token)[0] == 200, 10, "the first dashboard")
    for fmt in ("json", "text"):
        t0 = time.monotonic()
        s = sidecar.rpc("token-dashboard.status", {"timeoutSeconds": 1, "maxAgeSeconds": 0, "format": fmt})
        took = time.monotonic() - t0
        assert 0.9 < took < 1.5, took
        assert s["stale"] is True
        flags = {x["id"]: x["stale"] for x in s["sources"]}
        assert flags == {"claude-code": False, "slow-api": True}
        if fmt == "text":
            assert "slow-api" in s["text"] and "(stale)" in s["text"]
    t0 = time.monotonic()
    resp = sidecar.grpc_call("Status", pb.StatusRequest(timeout_seconds=1, max_age_seconds=0))
    assert time.monotonic() - t0 < 1.5
    assert resp.stale and {x.id: x.stale for x in resp.sources}["slow-api"]
    assert not hang.finished.is_set()


def test_concurrent_status_calls_share_one_refresh(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    slow = CountingSource("slow-count", seconds=0.5)
    sidecar = RunningSidecar(app, [slow]).start()
    try:
        wait_until(lambda: slow.polls == 1 and sidecar.ctx.scheduler.workers["slow-count"].last_end, 10, "first poll")
        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(
                lambda _: sidecar.grpc_call("Status", pb.StatusRequest(max_age_seconds=0, timeout_seconds=10)),
                range(6),
            ))
        assert slow.polls == 2  # six callers, one refresh
        assert all(not r.stale for r in results)
    finally:
        sidecar.stop()


def test_a_failing_source_backs_off(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    failing = CountingSource("flaky", fail=True)
    healthy = CountingSource("steady")
    failing.kind = healthy.kind = "local"
    sched = Scheduler(app, [failing, healthy], lambda: None)
    for w in sched.workers.values():
        w.interval = 0.05
    sched.start()
    time.sleep(2.0)
    assert not sched.stop(5)
    # Without backoff both would poll every 50 ms; the failing one waits 2, 4, 8, 16, 32 intervals
    # (0.1, 0.2, 0.4, 0.8, 1.6 s, less up to 20 % jitter): at most 6 polls in 2 s, however fast the machine.
    assert 3 <= failing.polls <= 6
    assert healthy.polls >= 2 * failing.polls
    w = sched.workers["flaky"]
    assert w.failures == failing.polls and w.last_result and "upstream down" in (w.last_result.error or "")
    states = app.store.source_states()
    assert states["flaky"].error and states["steady"].error is None


def test_backoff_is_capped() -> None:
    w = SourceWorker(CountingSource("x"), 60.0, lambda s: None, lambda r, c: None, threading.Event())  # type: ignore[arg-type]
    w.failures = 3
    assert 60 * 8 * 0.8 <= w.delay() <= 60 * 8
    w.failures = 50
    assert w.delay() <= 3600


def test_json_of_the_hanging_source_test_is_plain(hanging: tuple) -> None:
    sidecar, hang, _ = hanging
    assert hang.started.wait(10)
    wait_until(lambda: sidecar.get("/readyz", sidecar.token)[0] == 200, 10, "the first dashboard")
    json.dumps(sidecar.rpc("token-dashboard.cached"))
