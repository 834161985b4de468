"""Sidecar benchmark: JSON-RPC ``token-dashboard.cached`` and gRPC ``Cached`` against hello-world
endpoints on the same stacks, and ``tokendash status`` against a running sidecar, whole process.

    .venv/bin/python scripts/bench/sidecar_bench.py [--seconds 5] [--clients 32] [--files 12] [--lines 20000]
        [--repeat 1] [--out bench-out/sidecar.md]

What it does, in one run on this machine:

1. generates a Claude Code corpus (``shared/tools/gen_claude_corpus.py``, the last 25 days) and starts
   ``tokendash serve`` on it (loopback, kernel-chosen ports), waiting until the first pass is stored;
2. starts the hello-world servers of ``sidecar_hello.py`` (uvicorn/httptools/uvloop and grpc.aio, the
   same options as the sidecar);
3. loads each endpoint in turn from a separate process (``sidecar_load.py``: keep-alive, 32 concurrent
   clients, 1 s warm-up, then ``--seconds``), hello first, then the sidecar; with ``--repeat N`` the
   whole sequence N times (interleaved) and each figure is the median of the N;
4. runs ``tokendash status`` 20 times against the sidecar and times each whole process;
5. prints a table (also written to ``--out``, with the raw figures beside it as JSON) and exits 1 when a
   target is missed: cached ≥ 50 % of hello throughput with p99 ≤ 20 ms on both transports,
   ``tokendash status`` ≤ 0.3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GEN = Path(os.environ.get("TOKENDASH_GEN_CORPUS", ROOT.parent / "shared" / "tools" / "gen_claude_corpus.py"))
BIN = Path(sys.executable).parent


def wait_line(p: subprocess.Popen[str], pattern: str, stream: str = "stderr", timeout: float = 60) -> re.Match[str]:
    pipe = p.stderr if stream == "stderr" else p.stdout
    assert pipe is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = pipe.readline()
        m = re.search(pattern, line)
        if m:
            return m
        if not line and p.poll() is not None:
            break
    raise SystemExit(f"process did not print {pattern!r}")


def rpc(url: str, token: str, method: str, params: dict | None = None) -> dict:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}).encode()
    req = urllib.request.Request(f"{url}/rpc", body, {"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())["result"]


def load(kind: str, target: str, token: str, what: str, seconds: float, clients: int) -> dict:
    out = subprocess.run([sys.executable, str(HERE / "sidecar_load.py"), kind, target, token, what, str(seconds), str(clients)],
                         capture_output=True, text=True, check=True, timeout=seconds + 60)
    return json.loads(out.stdout.strip().splitlines()[-1])


def merge(runs: list[dict]) -> dict:
    """The median of each figure over repeated loads of one endpoint; errors summed."""
    out = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50_ms", "p90_ms", "p99_ms", "max_ms")}
    out["errors"] = sum(r["errors"] for r in runs)
    out["runs_rps"] = [r["rps"] for r in runs]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--files", type=int, default=12)
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--status-runs", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=1, help="load every endpoint this many times (medians)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench-out" / "sidecar.md")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="tokendash-sidecar-bench-"))
    claude, empty = tmp / "claude", tmp / "empty"
    empty.mkdir()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    subprocess.run([sys.executable, str(GEN), "--out", str(claude), "--files", str(args.files), "--assistant-lines",
                    str(args.lines), "--end-date", yesterday, "--days", "25", "--seed", "7"], check=True, capture_output=True)
    manifest = json.loads((claude / "manifest.json").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENDASH_")}
    env.update(TOKENDASH_HOME=str(tmp / "home"), CLAUDE_CONFIG_DIR=str(claude), CODEX_HOME=str(empty),
               OPENCLAW_STATE_DIR=str(empty))
    procs: list[subprocess.Popen[str]] = []
    try:
        side = subprocess.Popen([str(BIN / "tokendash"), "serve", "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        procs.append(side)
        m = wait_line(side, r"listening http=(\S+) grpc=(\S+)")
        url, grpc_target = f"http://{m.group(1)}", m.group(2)
        threading.Thread(target=side.stderr.read, daemon=True).start()  # keep its log pipe drained
        token = (tmp / "home" / "token").read_text().strip()
        t0 = time.monotonic()
        while True:
            s = rpc(url, token, "token-dashboard.status", {"maxAgeSeconds": 3600})
            src = {x["id"]: x for x in s["sources"]}["claude-code"]
            if src["ok"] and src["items"] == manifest["dedupTotals"]["entries"]:
                break
            if time.monotonic() - t0 > 300:
                raise SystemExit(f"first pass not done: {src}")
            time.sleep(0.5)
        cached_bytes = len(json.dumps(rpc(url, token, "token-dashboard.cached")))
        hello_http = subprocess.Popen([sys.executable, str(HERE / "sidecar_hello.py"), "http", "127.0.0.1:0"],
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        hello_grpc = subprocess.Popen([sys.executable, str(HERE / "sidecar_hello.py"), "grpc", "127.0.0.1:0"],
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs += [hello_http, hello_grpc]
        port_rx = r"listening (\d+)"
        hello_http_url = f"http://127.0.0.1:{wait_line(hello_http, port_rx, 'stdout').group(1)}"
        hello_grpc_target = f"127.0.0.1:{wait_line(hello_grpc, port_rx, 'stdout').group(1)}"

        call = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "token-dashboard.cached"})
        plan = {
            "HTTP hello world": ("http", hello_http_url, call),
            "JSON-RPC token-dashboard.cached": ("http", url, call),
            "gRPC hello world (unary)": ("grpc", hello_grpc_target, "/bench.Hello/Hello"),
            "gRPC Cached": ("grpc", grpc_target, "/tokendash.v1.TokenDashboardService/Cached"),
        }
        runs: dict[str, list[dict]] = {name: [] for name in plan}
        for _ in range(max(1, args.repeat)):
            for name, (kind, target, what) in plan.items():
                runs[name].append(load(kind, target, token, what, args.seconds, args.clients))
        rows = {name: merge(rs) for name, rs in runs.items()}
        walls = []
        status_env = {**env, "TOKENDASH_URL": url}
        for _ in range(args.status_runs):
            t = time.perf_counter()
            p = subprocess.run([str(BIN / "tokendash"), "status"], env=status_env, capture_output=True, text=True, timeout=30)
            walls.append(time.perf_counter() - t)
            assert p.returncode == 0 and p.stdout.startswith("📊"), p.stderr
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)  # the corpus and the store (~100 MB)

    http_ratio = rows["JSON-RPC token-dashboard.cached"]["rps"] / rows["HTTP hello world"]["rps"]
    grpc_ratio = rows["gRPC Cached"]["rps"] / rows["gRPC hello world (unary)"]["rps"]
    med, worst = statistics.median(walls), max(walls)
    p90 = sorted(walls)[int(0.9 * len(walls)) - 1]
    repeat = max(1, args.repeat)
    lines = [
        f"corpus: {manifest['dedupTotals']['entries']:,} events; cached result {cached_bytes:,} bytes of JSON; "
        f"{args.clients} clients, {args.seconds:g} s after 1 s warm-up"
        + (f", {repeat} loads of each endpoint (interleaved; medians)" if repeat > 1 else "")
        + f"; {os.cpu_count()} cores",
        "",
        "| endpoint | req/s | p50 ms | p99 ms | max ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} | {r['errors']} |")
    lines += [
        "",
        f"JSON-RPC cached / hello: {http_ratio:.0%}; gRPC Cached / hello: {grpc_ratio:.0%}",
        f"`tokendash status` against the sidecar, whole process, {len(walls)} runs: median {med:.3f} s, "
        f"p90 {p90:.3f} s, max {worst:.3f} s",
    ]
    checks = {
        "JSON-RPC cached >= 50% of hello": http_ratio >= 0.5,
        "JSON-RPC cached p99 <= 20 ms": rows["JSON-RPC token-dashboard.cached"]["p99_ms"] <= 20,
        "gRPC Cached >= 50% of hello": grpc_ratio >= 0.5,
        "gRPC Cached p99 <= 20 ms": rows["gRPC Cached"]["p99_ms"] <= 20,
        "tokendash status <= 0.3 s (median)": med <= 0.3,
        "no errors": all(r["errors"] == 0 for r in rows.values()),
    }
    lines += [""] + [f"{'ok  ' if ok else 'MISS'} {name}" for name, ok in checks.items()]
    cmd = " ".join([os.path.relpath(sys.executable, ROOT), os.path.relpath(__file__, ROOT), *sys.argv[1:]])
    lines += ["", f"Command: `{cmd}`"]
    print("\n".join(lines))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    args.out.with_suffix(".json").write_text(json.dumps({
        "rows": rows, "http_ratio": http_ratio, "grpc_ratio": grpc_ratio, "cached_bytes": cached_bytes,
        "events": manifest["dedupTotals"]["entries"], "clients": args.clients, "seconds": args.seconds,
        "repeat": repeat, "status_walls": walls, "status_median": med, "status_max": worst, "checks": checks,
        "command": cmd}, indent=1) + "\n")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
