"""``token-dashboard.budget.check``: the in-process work of one call, which the plugin's
``before_agent_run`` gate pays before every agent run (SPEC §8: "in well under a millisecond").

A store with a month of usage and ``--budgets`` budgets of every scope (global, provider, agent,
project) and period; the dashboard built once, as the sidecar holds it in memory; then, per call:

* ``handler``: ``methods.budget_check(ctx, params)`` — the method itself, from the dashboard in memory;
* ``json-rpc``: ``Dispatcher.handle(body)`` — parse the request body, validate, run the method, encode
  the response: everything the sidecar does for a call except the socket.

    .venv/bin/python scripts/bench/budget_check.py [--budgets 24] [--calls 20000] [--out bench-out/budget_check.md]

Prints per-call median, p99 and max in microseconds (also written to ``--out``, with the figures as JSON
beside it); exits 1 when a median reaches 1 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "service"))

from tests.sidecar.harness import make_app  # noqa: E402
from tokendash.api.context import LocalContext  # noqa: E402
from tokendash.api.methods import budget_check, summary  # noqa: E402
from tokendash.server.jsonrpc import Dispatcher  # noqa: E402
from tokendash.sources.base import UsageEvent  # noqa: E402

TARGET_US = 1000.0


def budgets(n: int) -> list[dict]:
    scopes = [{}, {"provider": "anthropic"}, {"provider": "openai"}, {"agent": "main"}, {"agent": "bot"},
              {"project": "site"}]
    periods = ["daily", "weekly", "monthly"]
    return [{"id": f"b{i}", "period": periods[i % 3], "limit": 5 + 10 * i, "scope": scopes[i % len(scopes)]}
            for i in range(n)]


def stats(samples: list[float]) -> tuple[float, float, float]:
    s = sorted(samples)
    return statistics.median(s), s[int(0.99 * (len(s) - 1))], s[-1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budgets", type=int, default=24)
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--out", type=Path, default=ROOT / "bench-out" / "budget_check.md")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp), budgets=budgets(args.budgets))
        now = int(time.time() * 1000)
        events = [UsageEvent("record", f"k{i}", now - i * 60_000, ("anthropic", "openai")[i % 2], "m", input=100,
                             agent=("main", "bot")[i % 2], project=("site", "api")[i % 2],
                             reported_cost_usd=Decimal("0.01")) for i in range(30 * 24 * 6)]
        app.store.write_batch("record", [(e, app.prices.price(e)) for e in events])
        ctx = LocalContext(app)
        ctx._summary = summary(app)  # the dashboard in memory, as the sidecar's cache holds it
        params = [{"agentId": "main", "provider": "anthropic", "model": "claude-sonnet-4-5"},
                  {"agentId": "bot", "provider": "openai"}, {}]

        handler: list[float] = []
        for i in range(args.calls):
            p = params[i % 3]
            t0 = time.perf_counter_ns()
            budget_check(ctx, p)
            handler.append((time.perf_counter_ns() - t0) / 1000)

        disp = Dispatcher(ctx, ThreadPoolExecutor(1))
        bodies = [json.dumps({"jsonrpc": "2.0", "id": i, "method": "token-dashboard.budget.check", "params": p}).encode()
                  for i, p in enumerate(params)]

        async def run() -> list[float]:
            out = []
            for i in range(args.calls):
                t0 = time.perf_counter_ns()
                await disp.handle(bodies[i % 3])
                out.append((time.perf_counter_ns() - t0) / 1000)
            return out

        rpc = asyncio.run(run())
        sample = json.loads(asyncio.run(disp.handle(bodies[0])))["result"]

    lines = [f"budget.check, {args.budgets} budgets, {args.calls} calls each; Python {platform.python_version()} "
             f"on {platform.machine()}", f"sample result: {json.dumps(sample)[:160]}"]
    worst = 0.0
    figures = {}
    for name, xs in (("handler", handler), ("json-rpc", rpc)):
        med, p99, mx = stats(xs)
        worst = max(worst, med)
        figures[name] = {"median_us": med, "p99_us": p99, "max_us": mx}
        lines.append(f"  {name:<9} median {med:7.1f} µs   p99 {p99:7.1f} µs   max {mx:8.1f} µs")
    if worst >= TARGET_US:
        lines.append(f"FAIL: a median of {worst:.1f} µs is not under {TARGET_US:.0f} µs")
    print("\n".join(lines))
    cmd = " ".join(["python", "scripts/bench/budget_check.py", *sys.argv[1:]])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("```\n" + "\n".join(lines) + "\n```\n\nCommand: `.venv/bin/" + cmd + "`\n")
    args.out.with_suffix(".json").write_text(json.dumps({
        **figures, "budgets": args.budgets, "calls": args.calls, "target_us": TARGET_US,
        "met": worst < TARGET_US}, indent=1) + "\n")
    return 1 if worst >= TARGET_US else 0


if __name__ == "__main__":
    raise SystemExit(main())
