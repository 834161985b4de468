"""What the plugin adds to a usage answer inside OpenClaw: ``token-dashboard.cached`` through the gateway's
WebSocket against the gateway's own ``health`` method on the same connection, and OpenClaw's own usage
answer (``usage.cost``), in one run.

A real OpenClaw 2026.9.6 gateway on Node 24 with this repository linked as the plugin (the harness of
tests/e2e), one WebSocket client (tests/e2e/ws.mjs), calls one at a time, interleaved in rounds so that
both methods see the same machine. Target: the median of ``cached`` at most 5 ms above ``health``.

    source scripts/ci/install-tools.sh
    .venv/bin/python scripts/bench/gateway_latency.py [--calls 300] [--rounds 5]

Writes bench-out/gateway_latency.md (and the figures as gateway_latency.json); exits 1 when the target is
missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.e2e.fakellm import FakeLLM  # noqa: E402
from tests.e2e.gateway import TOKEN, Gateway  # noqa: E402

TARGET_MS = 5.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=300, help="calls of each method per round")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    openclaw, node = os.environ.get("TOKENDASH_OPENCLAW_BIN"), os.environ.get("TOKENDASH_NODE24")
    if not (openclaw and node):
        print("source scripts/ci/install-tools.sh first (TOKENDASH_OPENCLAW_BIN, TOKENDASH_NODE24)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="td-gw-bench-"))
    samples: dict[str, list[float]] = {"health": [], "token-dashboard.cached": [], "usage.cost": []}
    with FakeLLM() as llm:
        gw = Gateway(work, openclaw, llm.port)
        t0 = time.monotonic()
        gw.start()
        started = time.monotonic() - t0
        try:
            # The sidecar is ready once cached answers (it is built after the first pass over the sources).
            deadline = time.monotonic() + 60
            while gw.call("token-dashboard.cached", check=False).get("ok") is False:
                if time.monotonic() > deadline:
                    raise RuntimeError("token-dashboard.cached never answered")
                time.sleep(1)
            spec = work / "calls.json"
            warm = [{"method": m, "params": {}, "repeat": 50} for m in samples]
            for r in range(args.rounds + 1):
                order = list(samples) if r % 2 else list(reversed(samples))
                calls = warm if r == 0 else [{"method": m, "params": {}, "repeat": args.calls} for m in order]
                spec.write_text(json.dumps(calls))
                cp = subprocess.run([node, str(ROOT / "tests" / "e2e" / "ws.mjs"), str(gw.port), TOKEN, str(spec)],
                                    capture_output=True, text=True, timeout=600, check=True)
                out = json.loads(cp.stdout)
                for res in out["results"]:
                    if not res["ok"]:
                        raise RuntimeError(f"{res['method']}: {res['error']}")
                    if r:
                        samples[res["method"]] += res["ms"]
        finally:
            gw.stop()

    def p(xs: list[float], q: float) -> float:
        return statistics.quantiles(xs, n=100)[int(q) - 1]

    med = {m: statistics.median(xs) for m, xs in samples.items()}
    added = med["token-dashboard.cached"] - med["health"]
    ok = added <= TARGET_MS
    lines = [
        "# Gateway latency: token-dashboard.cached vs the gateway's own methods",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}; "
        f"OpenClaw 2026.9.6 on Node 24 (gateway ready in {started:.1f} s).",
        f"One WebSocket connection, calls one at a time, {args.rounds} rounds × {args.calls} calls of each method "
        "(interleaved, order alternating), after 50 warm-up calls each.",
        "",
        "| method | median ms | p90 ms | p99 ms |",
        "|---|---:|---:|---:|",
    ]
    for m, xs in samples.items():
        lines.append(f"| `{m}` | {med[m]:.2f} | {p(xs, 90):.2f} | {p(xs, 99):.2f} |")
    lines += [
        "",
        f"`token-dashboard.cached` adds **{added:+.2f} ms** (median) over `health`: target ≤ {TARGET_MS:.0f} ms, "
        + ("met" if ok else "MISSED") + ".",
        "",
        "Command: `source scripts/ci/install-tools.sh && .venv/bin/python scripts/bench/gateway_latency.py "
        f"--calls {args.calls} --rounds {args.rounds}`",
    ]
    out_dir = ROOT / "bench-out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "gateway_latency.md").write_text("\n".join(lines) + "\n")
    (out_dir / "gateway_latency.json").write_text(json.dumps({
        "median_ms": med, "p90_ms": {m: p(xs, 90) for m, xs in samples.items()},
        "p99_ms": {m: p(xs, 99) for m, xs in samples.items()}, "added_ms": added, "target_ms": TARGET_MS,
        "met": ok, "calls": args.calls, "rounds": args.rounds, "gateway_ready_s": started}, indent=1) + "\n")
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
