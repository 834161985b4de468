"""Soak: a real ``tokendash serve`` (JSON-RPC over HTTP and gRPC) under 32 concurrent clients for
``TOKENDASH_SOAK_SECONDS`` (60; CI runs a shorter one), while it reads a Claude Code corpus that keeps
growing (files created and appended to, lines cut in half between appends) and polls three fake
provider APIs every 1.2 s. The clients (a separate process, ``load_clients.py``) mix ``status``,
``cached``, ``usage`` and ``record`` on both transports.

Must hold: no error of any kind; the sidecar's RSS at the end at most 10 % above its RSS at the end of
the warm-up (the first 20 % of the run); once the clients have gone, its open file descriptors other
than the store's back to at most the count before the load, and all of them within a little slack of
it (the baseline is taken after a 2 s burst of the same load, so that the 16 RPC threads and the store's
connection pool exist; SQLite may keep a few more descriptors of the store open for reuse); and
afterwards the numbers are exact: the corpus's totals per day and per model, every record once
(replays refused as duplicates), the providers' billed totals.

Every figure is printed at the end of the session (tests/load/conftest.py)."""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.load.world import (
    FIGURES,
    Feeder,
    GrowingCorpus,
    Providers,
    Serve,
    sidecar_env,
    stored_billed_nusd,
    today,
    usage_by,
    wait_for,
)

SECONDS = float(os.environ.get("TOKENDASH_SOAK_SECONDS", "60"))
CLIENTS = 32
WARMUP = 0.2  # of the run
RSS_GROWTH = 0.10
FD_SLACK = 8  # all descriptors: the store's may settle a little above the baseline (see below)
STORE = ("tokendash.db", "tokendash.db-wal", "tokendash.db-shm")
HERE = Path(__file__).resolve().parent


def fd_kinds(pid: int) -> dict[str, int]:
    """Open descriptors by kind (socket, pipe, anon_inode:…, or the file's name)."""
    out: dict[str, int] = {}
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except OSError:
            continue
        kind = link.split(":", 1)[0] if link.startswith(("socket:", "pipe:")) else link.rsplit("/", 1)[-1]
        out[kind] = out.get(kind, 0) + 1
    return out


def others(kinds: dict[str, int]) -> int:
    """Descriptors other than the store's: sockets, pipes, event fds, logs."""
    return sum(v for k, v in kinds.items() if k not in STORE)


def sample(p: psutil.Process) -> dict[str, Any]:
    with p.oneshot():
        return {"t": time.monotonic(), "rss": p.memory_info().rss, "fds": p.num_fds(), "threads": p.num_threads(),
                "cpu": sum(p.cpu_times()[:2])}


@pytest.mark.slow
def test_soak(tmp_path: Path) -> None:
    rng = random.Random(20261203)
    corpus = GrowingCorpus.generate(tmp_path, rng, files=40, assistant_lines=16000, seed=31,
                                    end_date=today().isoformat(), days=6)
    corpus.write_until(0.4)  # the rest arrives during the run
    providers = Providers(delay=0.01)
    env = sidecar_env(tmp_path, corpus.live, TOKENDASH_LOCAL_POLL_SECONDS="0.5",
                      TOKENDASH_POLL_INTERVAL_MINUTES="0.02", TOKENDASH_INGEST_BATCH_EVENTS="500",
                      **providers.env())
    s = Serve(env, tmp_path / "serve.log").start()
    load: subprocess.Popen[str] | None = None
    try:
        def caught_up() -> Any:
            tot, _, _ = corpus.snapshot()
            got = usage_by(s, "day")
            n = sum(r["entries"] for r in got.values())
            return n == tot["entries"] or f"{n} of {tot['entries']} events"

        wait_for(caught_up, 120, "the first pass")
        wait_for(lambda: stored_billed_nusd(s.db) == providers.billed_nusd() or stored_billed_nusd(s.db), 60,
                 "the first provider polls")
        proc = psutil.Process(s.pid)
        # A short burst first, so that what the sidecar keeps for good (its 16 RPC threads, the store's
        # connection pool, SQLite's descriptors kept for reuse) exists before the baseline is taken.
        prewarm = subprocess.run([sys.executable, str(HERE / "load_clients.py"), s.url, str(s.grpc_target), s.token,
                                  "2", str(CLIENTS), "1"], capture_output=True, text=True, timeout=120)
        assert prewarm.returncode == 0, prewarm.stderr[-3000:]
        warmed = json.loads(prewarm.stdout.strip().splitlines()[-1])
        assert warmed["totalErrors"] == 0, warmed["firstErrors"]
        time.sleep(1)
        before = sample(proc)
        kinds_before = fd_kinds(s.pid)
        events_before, bytes_before = corpus.snapshot()[0]["entries"], corpus.bytes
        provider_requests_before = providers.requests

        load = subprocess.Popen([sys.executable, str(HERE / "load_clients.py"), s.url, str(s.grpc_target), s.token,
                                 str(SECONDS), str(CLIENTS), "7"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        t0 = time.monotonic()
        feeder = Feeder(corpus, len(corpus.plan), SECONDS * 0.8).start()
        samples = []
        while load.poll() is None and time.monotonic() - t0 < SECONDS + 120:
            samples.append(sample(proc))
            time.sleep(0.25)
        out, err = load.communicate(timeout=60)
        assert load.returncode == 0, err[-3000:]
        stats = json.loads(out.strip().splitlines()[-1])
        feeder.join()

        # After the clients have gone: the descriptors they held are closed.
        seen: dict[str, Any] = {}

        def fds_back() -> Any:  # (a provider poll may hold a socket for a moment: the first quiet moment counts)
            seen["sample"], seen["kinds"] = sample(proc), fd_kinds(s.pid)
            n, kinds = seen["sample"]["fds"], seen["kinds"]
            ok = n <= before["fds"] + FD_SLACK and others(kinds) <= others(kinds_before)
            return ok or f"{n}: {kinds}, before {kinds_before}"

        fds_wait = wait_for(fds_back, 15, "the file descriptors to come back")
        after, fd_kinds_after = seen["sample"], seen["kinds"]

        # Still exact: the whole corpus, per day and per model; every record once; the billed totals.
        wait_for(caught_up, 120, "the last pass")
        tot, days, models = corpus.snapshot()
        assert usage_by(s, "day") == days
        assert usage_by(s, "model") == models
        corpus.check_manifest()
        rec = s.rpc("usage", {"since": "all", "filters": {"source": ["record"]}})["totals"]
        assert rec["requests"] == stats["recordKeys"] + warmed["recordKeys"] == stats["recordsAccepted"] + warmed["recordsAccepted"]
        assert stats["recordsDuplicates"] == stats["recordReplays"]
        assert stored_billed_nusd(s.db) == providers.billed_nusd()
        assert s.stop() == 0
    finally:
        if load is not None and load.poll() is None:
            load.kill()
            load.wait()
        s.stop()
        providers.close()

    # -- figures and verdicts ----------------------------------------------------------------------
    run = [x for x in samples if x["t"] >= t0]
    t_end = run[-1]["t"]

    def rss_at(a: float, b: float) -> float:  # the median of the samples in [a, b): one sample is noisy
        xs = [x["rss"] for x in run if a <= x["t"] < b] or [min(run, key=lambda x: abs(x["t"] - a))["rss"]]
        return statistics.median(xs)

    warm_end = t0 + WARMUP * SECONDS
    warm_rss = rss_at(warm_end - 0.05 * SECONDS, warm_end + 0.05 * SECONDS)
    end_rss = rss_at(t_end - 0.05 * SECONDS, t_end + 1)
    peak = max(x["rss"] for x in run)
    growth = end_rss / warm_rss - 1
    end = run[-1]
    cpu = (end["cpu"] - before["cpu"]) / (end["t"] - before["t"])
    mb = 2**20
    calls = stats["calls"]
    per = ", ".join(f"{k} {v:,}" for k, v in sorted(calls.items()))
    p99 = ", ".join(f"{k} {stats['p50ms'][k]:.1f}/{v:.1f}" for k, v in sorted(stats["p99ms"].items()))
    marks = [min(run, key=lambda x, i=i: abs(x["t"] - (t0 + i * SECONDS / 10))) for i in range(11)]
    timeline = " ".join(f"{x['rss'] / mb:.0f}" for x in marks)
    FIGURES.lines += [
        f"soak: {SECONDS:g} s, {CLIENTS} clients (16 JSON-RPC/HTTP keep-alive, 16 gRPC channels), "
        f"{stats['totalCalls']:,} calls ({stats['totalCalls'] / stats['seconds']:,.0f}/s), errors {stats['totalErrors']}",
        f"soak: calls by transport.method: {per}",
        f"soak: latency p50/p99 ms: {p99}",
        f"soak: sidecar RSS before {before['rss'] / mb:.1f} MB, end of warm-up {warm_rss / mb:.1f} MB, "
        f"peak {peak / mb:.1f} MB, end {end_rss / mb:.1f} MB (medians of the samples of 10 % of the run around "
        f"those moments), after {after['rss'] / mb:.1f} MB: growth {growth:+.1%} (limit +{RSS_GROWTH:.0%}); "
        f"sidecar CPU {cpu:.2f} cores",
        f"soak: sidecar RSS (MB) at every tenth of the run: {timeline}",
        f"soak: open fds before {before['fds']}, during (median) {statistics.median(x['fds'] for x in run):.0f}, "
        f"max {max(x['fds'] for x in run)}, after the clients left {after['fds']} (within {fds_wait:.1f} s; "
        f"limit {before['fds']} + {FD_SLACK}); not the store's: {others(kinds_before)} before, "
        f"{others(fd_kinds_after)} after (sockets {kinds_before.get('socket', 0)} → {fd_kinds_after.get('socket', 0)}); "
        f"the store's: {before['fds'] - others(kinds_before)} → {after['fds'] - others(fd_kinds_after)}; "
        f"threads {before['threads']} before, max {max(x['threads'] for x in run)}, {after['threads']} after",
        f"soak: during the run {tot['entries'] - events_before:,} Claude events ingested ({(corpus.bytes - bytes_before) / 1e6:.1f} MB "
        f"appended to the corpus in pieces), {providers.requests - provider_requests_before} provider API requests, "
        f"{stats['recordsAccepted']:,} records stored once + {stats['recordsDuplicates']:,} replays refused; "
        f"totals exact per day ({len(days)}) and per model ({len(models)})",
    ]
    fds_ok = after["fds"] <= before["fds"] + FD_SLACK and others(fd_kinds_after) <= others(kinds_before)
    FIGURES.data["soak"] = {
        "seconds": SECONDS, "clients": CLIENTS, "calls": stats["totalCalls"], "errors": stats["totalErrors"],
        "callsByMethod": calls, "p50ms": stats["p50ms"], "p99ms": stats["p99ms"], "rssBeforeMB": before["rss"] / mb,
        "rssWarmMB": warm_rss / mb, "rssPeakMB": peak / mb, "rssEndMB": end_rss / mb, "rssGrowth": growth,
        "fdsBefore": before["fds"], "fdsAfter": after["fds"], "fdsMax": max(x["fds"] for x in run), "fdsOk": fds_ok,
        "eventsIngested": tot["entries"] - events_before, "records": stats["recordsAccepted"],
    }
    assert stats["totalErrors"] == 0, stats["firstErrors"]
    assert growth <= RSS_GROWTH, f"RSS grew {growth:.1%}"
    assert fds_ok, (before, after, kinds_before, fd_kinds_after)
    assert all(v > 0 for v in calls.values()) and len(calls) == 8, calls
