"""Scale benchmark (issue 9): report latency and sidecar memory with millions of usage events, on SQLite
and on PostgreSQL.

    .venv/bin/python scripts/bench/scale.py [--sizes 1000000,10000000] [--backends sqlite,postgres]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--runs 3] [--out bench-out/scale.md]

For each backend and size it makes a fresh store (migrated by tokendash itself), fills it in the database
with one ``INSERT … SELECT`` (SQLite: a recursive CTE; PostgreSQL: ``generate_series``), then measures:

* ``token-dashboard.usage`` grouped by day over everything (Europe/Amsterdam), in-process on the reader the
  CLI uses (plain sqlite3 / the SQLAlchemy engine): the first call and the median of ``--runs``;
* the status summary build (``accounting.summary.build_summary``: today/week/month, five breakdowns of
  the month, burn over 24 h and 7 d), as the sidecar builds it: median of ``--runs``;
* ``tokendash serve`` on the store: resident memory once the dashboard is built and after a
  ``token-dashboard.usage`` call (VmRSS and the peak, VmHWM), and that call's latency.

The synthetic events are spread over the last 90 days, in time order, with realistic cardinalities: a
session is 150 consecutive calls of one host, source, agent, project, model and channel; 5 hosts, 4
sources, 5 providers, 20 models, 12 agents, 40 projects, N/150 sessions; 80 % estimated, 10 % reported,
10 % unpriced. Targets: 10x the events costs at most 2x the report latency; sidecar RSS ≤ 200 MB at 1 M.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "service"))

DAY_MS = 86_400_000
SPAN_DAYS = 90
TZ = "Europe/Amsterdam"

COLS = ("host, source, dedupe_key, ts_ms, provider, model, agent, project, session, channel, input, output, "
        "cache_read, cache_write, cache_write_1h, reasoning, rank, cost_nusd, cost_source, model_fallback, "
        "ingested_ms")


def select_rows(n: int, t0: int, now: int, sqlite: bool) -> str:
    """The SELECT list of one synthetic event from its number ``i`` (1..n): plain integer arithmetic and
    CASE, the same SQL on both databases."""
    span = SPAN_DAYS * DAY_MS
    sid = "(i / 150)"
    mod = f"(({sid} * 7) % 20)"  # the model of the session; its provider follows from it
    provider = (f"CASE {mod} % 5 WHEN 0 THEN 'anthropic' WHEN 1 THEN 'openai' WHEN 2 THEN 'openrouter' "
                "WHEN 3 THEN 'deepseek' ELSE 'moonshot' END")
    false = "0" if sqlite else "false"
    return (
        f"'host-' || ({sid} % 5), "
        f"CASE {sid} % 4 WHEN 0 THEN 'claude-code' WHEN 1 THEN 'codex' WHEN 2 THEN 'openclaw' ELSE 'record' END, "
        f"'k' || (1000000000 + i), "
        f"{t0} + (i * {span} / {n}) + ((i * 7919) % 60000), "
        f"{provider}, 'model-' || {mod}, "
        f"'agent-' || (({sid} * 5) % 12), 'project-' || (({sid} * 11) % 40), 'session-' || {sid}, "
        f"CASE {sid} % 5 WHEN 0 THEN NULL WHEN 1 THEN 'telegram' WHEN 2 THEN 'discord' WHEN 3 THEN 'slack' "
        "ELSE 'webchat' END, "
        "(i * 7919) % 5000, (i * 104729) % 2000, (i * 1299709) % 60000, (i * 15485863) % 4000, 0, "
        "(i * 104729) % 500, 1, "
        "CASE WHEN i % 10 = 0 THEN NULL ELSE (i * 2654435761) % 50000000 END, "
        "CASE i % 10 WHEN 0 THEN 'unpriced' WHEN 1 THEN 'reported' ELSE 'estimated' END, "
        f"{false}, {now}"
    )


def fill(url: str, n: int, now: int) -> tuple[float, float, int]:
    from sqlalchemy import text

    from tokendash.store.db import is_sqlite, open_store
    from tokendash.store.repo import Store

    engine = open_store(url)
    sqlite = is_sqlite(engine)
    t0 = now - SPAN_DAYS * DAY_MS
    start = time.perf_counter()
    cover = "ts_ms, input, output, cache_read, cache_write, reasoning, cost_nusd, cost_source"
    with engine.begin() as c:  # the time index is built once at the end (as CREATE INDEX does it: sorted)
        c.execute(text("DROP INDEX ix_usage_events_ts_cover"))
        if sqlite:
            c.execute(text(
                f"INSERT INTO usage_events ({COLS}) WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g "
                f"WHERE i < {n}) SELECT {select_rows(n, t0, now, True)} FROM g"))
        else:
            c.execute(text(f"INSERT INTO usage_events ({COLS}) SELECT {select_rows(n, t0, now, False)} "
                           f"FROM generate_series(1::bigint, {n}) AS g(i)"))
        c.execute(text(f"CREATE INDEX ix_usage_events_ts_cover ON usage_events ({cover})"))
        # What a writer does (store/repo.py): the buckets it wrote are dirty until the summary is refreshed.
        c.execute(text("INSERT INTO dirty_buckets (ts_ms) SELECT DISTINCT (ts_ms / 900000) * 900000 FROM usage_events"))
    if sqlite:
        with engine.connect() as c:
            c.exec_driver_sql("ANALYZE")
    else:  # what autovacuum does on a live store: statistics, and the visibility map index-only scans need
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE usage_events")
    t = time.perf_counter()
    Store(engine).refresh_summary()  # what the end of an ingest pass does
    refresh_s = time.perf_counter() - t
    if not sqlite:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE usage_summary")
    with engine.connect() as c:
        rows = c.execute(text("SELECT COUNT(*) FROM usage_summary")).scalar_one()
    engine.dispose()
    return time.perf_counter() - start, refresh_s, rows


def timed(fn: Any, runs: int) -> tuple[float, float, Any]:
    t = time.perf_counter()
    first = fn()
    first_s = time.perf_counter() - t
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return first_s, statistics.median(times), first


def measure_queries(url: str, now: int, runs: int) -> dict[str, Any]:
    import sqlite3

    from tokendash.accounting.aggregate import UsageQuery, usage
    from tokendash.accounting.summary import build_summary
    from tokendash.store.db import open_store
    from tokendash.store.reader import EngineReader, SqliteReader, sqlite_path

    engine = open_store(url)
    out: dict[str, Any] = {}
    q = UsageQuery(group_by=["day"], timezone=TZ)
    path = sqlite_path(url)
    if path:
        conn = sqlite3.connect(path)
        reader: Any = SqliteReader(conn)
    else:
        conn = engine.connect()
        reader = EngineReader(conn)
    out["usage_first"], out["usage_median"], res = timed(lambda: usage(reader, q), runs)
    out["requests"] = res["totals"]["requests"]
    out["days"] = len(res["rows"])
    conn.close()
    with engine.connect() as c:
        out["summary_first"], out["summary_median"], _ = timed(lambda: build_summary(
            c, tz_name=TZ, now_ms=now, currency="USD", source_states={}, known_sources=[]), runs)
    engine.dispose()
    return out


def proc_status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            out[k] = int(v.split()[0]) * 1024
    return out


def measure_sidecar(url: str, tmp: Path) -> dict[str, Any]:
    home = tmp / "home"
    empty = tmp / "empty"
    empty.mkdir(exist_ok=True)
    token = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENDASH_")}
    env.update(TOKENDASH_HOME=str(home), TOKENDASH_DATABASE_URL=url, TOKENDASH_TOKEN=token, TOKENDASH_TIMEZONE=TZ,
               CLAUDE_CONFIG_DIR=str(empty), CODEX_HOME=str(empty), OPENCLAW_STATE_DIR=str(empty))
    for k in ("OPENAI_ADMIN_KEY", "ANTHROPIC_ADMIN_KEY", "OPENROUTER_API_KEY", "OPENROUTER_MANAGEMENT_KEY",
              "MOONSHOT_API_KEY", "DEEPSEEK_API_KEY"):
        env.pop(k, None)
    p = subprocess.Popen([sys.executable, "-m", "tokendash", "serve", "--http-addr", "127.0.0.1:0", "--grpc-addr",
                          "off"], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        assert p.stderr is not None
        base = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and base is None:
            m = re.search(r"listening http=(\S+)", p.stderr.readline())
            if m:
                base = f"http://{m.group(1)}"
        if base is None:
            raise SystemExit("the sidecar did not start")
        t = time.perf_counter()
        while True:  # ready once the dashboard has been built from the store
            req = urllib.request.Request(base + "/readyz", headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(req, timeout=600) as r:
                    if r.status == 200:
                        break
            except urllib.error.HTTPError:
                pass
            time.sleep(0.1)
        ready_s = time.perf_counter() - t
        at_ready = proc_status(p.pid)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "token-dashboard.usage",
                           "params": {"groupBy": ["day"], "scope": "team", "timezone": TZ}}).encode()
        req = urllib.request.Request(base + "/rpc", body, {"Authorization": f"Bearer {token}"})
        t = time.perf_counter()
        with urllib.request.urlopen(req, timeout=600) as r:
            json.loads(r.read())
        rpc_s = time.perf_counter() - t
        after = proc_status(p.pid)
        return {"ready_s": ready_s, "rss_ready": at_ready["VmRSS"], "rss_after": after["VmRSS"],
                "rss_peak": after["VmHWM"], "rpc_usage_s": rpc_s}
    finally:
        p.terminate()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def pg_database(admin_url: str) -> tuple[str, Any]:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"tokendash_scale_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.rsplit("/", 1)[0] + "/" + name, drop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--pg-url", default=os.environ.get("TOKENDASH_TEST_PG_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench-out" / "scale.md"))
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    now = int(time.time() * 1000)
    results: list[dict[str, Any]] = []
    for backend in args.backends.split(","):
        for n in sizes:
            tmp = Path(tempfile.mkdtemp(prefix="tokendash-scale-"))
            drop = None
            try:
                if backend == "sqlite":
                    url = f"sqlite:///{tmp / 'tokendash.db'}"
                else:
                    url, drop = pg_database(args.pg_url)
                print(f"[{backend} {n:,}] generating …", file=sys.stderr, flush=True)
                gen_s, refresh_s, summary_rows = fill(url, n, now)
                print(f"[{backend} {n:,}] generated in {gen_s:.1f} s; measuring …", file=sys.stderr, flush=True)
                r = {"backend": backend, "events": n, "generate_s": gen_s, "refresh_s": refresh_s,
                     "summary_rows": summary_rows, **measure_queries(url, now, args.runs), **measure_sidecar(url, tmp)}
                assert r["requests"] == n, r
                if backend == "sqlite":
                    r["db_bytes"] = (tmp / "tokendash.db").stat().st_size
                results.append(r)
                print(json.dumps(r), file=sys.stderr, flush=True)
            finally:
                if drop is not None:
                    drop()
                shutil.rmtree(tmp, ignore_errors=True)

    lines = ["| backend | events | usage by day: first / median | status summary build: first / median | "
             "sidecar RSS ready / after usage / peak | sidecar `usage` RPC | summary rows (full rebuild) | generate |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['events']:,} | {r['usage_first'] * 1000:,.0f} / {r['usage_median'] * 1000:,.0f} ms | "
            f"{r['summary_first'] * 1000:,.0f} / {r['summary_median'] * 1000:,.0f} ms | "
            f"{r['rss_ready'] / 2**20:.0f} / {r['rss_after'] / 2**20:.0f} / {r['rss_peak'] / 2**20:.0f} MB | "
            f"{r['rpc_usage_s'] * 1000:,.0f} ms | {r['summary_rows']:,} ({r['refresh_s']:.1f} s) | {r['generate_s']:.0f} s |")
    verdicts = []
    for backend in {r["backend"] for r in results}:
        rs = sorted((r for r in results if r["backend"] == backend), key=lambda r: r["events"])
        for a, b in zip(rs, rs[1:], strict=False):
            f = b["events"] / a["events"]
            for key, what in (("usage_median", "usage by day"), ("summary_median", "status summary")):
                ratio = b[key] / a[key]
                ok = ratio <= 2 if f >= 10 else None
                verdicts.append(f"- {backend}: {what} {a['events']:,} → {b['events']:,} events ({f:.0f}x): "
                                f"{ratio:.2f}x the latency" + ("" if ok is None else (" ✅" if ok else " ❌ (target ≤ 2x)")))
        for r in rs:
            if r["events"] == 1_000_000:
                ok = r["rss_peak"] <= 200 * 2**20
                verdicts.append(f"- {backend}: sidecar peak RSS at 1 M events {r['rss_peak'] / 2**20:.0f} MB "
                                + ("✅" if ok else "❌ (target ≤ 200 MB)"))
    cmd = "$ .venv/bin/python scripts/bench/scale.py " + " ".join(sys.argv[1:])
    text = "\n".join([cmd, "", *lines, "", *sorted(verdicts)]) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
