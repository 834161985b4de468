"""The ``runaway`` rule (tokendash/runaway.py): a heartbeat loop on top of a realistic history raises
exactly one alert, with the figures computed here independently; a realistic busy day raises none; an
open alert holds through a wobble, keeps the baseline it started with, and resolves once the loop stops."""

from __future__ import annotations

import json
import math
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tests.sidecar.harness import RunningSidecar, make_app
from tests.support import gen_corpus
from tokendash.api.methods import summary
from tokendash.ingest import ingest
from tokendash.runaway import RunawayDetector
from tokendash.sources.base import UsageEvent

HOUR = 3_600_000
MIN = 60_000


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def p95(values: list[int | float]) -> float:
    """Nearest rank, written out: the smallest value with at least 95 % of the values at or below it."""
    s = sorted(values)
    for v in s:
        if sum(1 for x in s if x <= v) >= 0.95 * len(s):
            return v
    raise AssertionError("empty")


def main_agent_history(now_ms: int, days: int = 8, seed: int = 5) -> list[dict]:
    """An OpenClaw agent's ordinary week: chat turns in its main session and a daily cron session, in
    the daytime hours, a few to a few dozen calls an hour; nothing in the last two hours."""
    rng = random.Random(seed)
    out = []
    day0 = (now_ms // (24 * HOUR) - days) * 24 * HOUR
    for d in range(days + 1):
        for hour in range(8, 23):
            if rng.random() < 0.45:
                continue
            for _ in range(rng.randint(2, 30)):
                ts = day0 + d * 24 * HOUR + hour * HOUR + rng.randrange(HOUR)
                if ts > now_ms - 2 * HOUR:
                    continue
                session = "agent:main:cron:daily" if hour == 9 else "agent:main:main"
                out.append({"ts": ts, "session": session, "cost": round(rng.uniform(0.005, 0.08), 4)})
    return out


def record(i: str, ts: int, session: str, cost: float) -> dict:
    return {"idempotencyKey": i, "timestamp": iso(ts), "provider": "anthropic", "model": "claude-sonnet-4-5",
            "agent": "main", "session": session, "input": 3, "output": 40, "cacheRead": 24_000, "costUsd": cost}


def test_heartbeat_loop_raises_exactly_one_runaway_alert(tmp_path: Path) -> None:
    now = int(time.time() * 1000)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    claude = tmp_path / "claude"
    gen_corpus(claude, files=60, assistant_lines=6000, days=8, end_date=yesterday, seed=3)  # Claude Code work
    history = main_agent_history(now, days=6)  # all of it inside the 7 baseline days, whatever the minute
    # The loop: the main session, one call every 3 s for the last 58 minutes (all inside the window).
    start = now - 58 * MIN
    beats = [{"ts": start + k * 3000, "session": "agent:main:main", "cost": 0.012} for k in range(58 * 20)]

    app = make_app(tmp_path, claude=claude)
    sc = RunningSidecar(app).start()
    try:
        sc.rpc("token-dashboard.refresh", {"sources": ["claude-code"]})
        for batch, tag in ((history, "h"), (beats, "b")):
            events = [record(f"{tag}{k}", e["ts"], e["session"], e["cost"]) for k, e in enumerate(batch)]
            for k in range(0, len(events), 1000):
                sc.rpc("token-dashboard.record", {"events": events[k:k + 1000]})
        alerts = sc.rpc("token-dashboard.alerts", {"state": "all"})["alerts"]
    finally:
        sc.stop()

    runaway = [a for a in alerts if a["type"] == "runaway"]
    assert [a["id"] for a in runaway] == ["runaway:session:agent:main:main"], alerts
    (a,) = runaway
    assert a["state"] == "open" and a["scope"] == "session:agent:main:main"

    # The figures, from the inputs above: the window holds every beat; the bar is the larger of the
    # session's and the agent's usual busy hour (p95 of active UTC hours in the 7 days before the window).
    end_hour = (now - 60 * MIN) // HOUR  # the window of the build that raised it began within a minute of this
    def hourly(rows: list[dict]) -> dict[int, list[float]]:
        out: dict[int, list[float]] = {}
        for e in rows:
            h = e["ts"] // HOUR
            if end_hour - 168 <= h < end_hour:
                cell = out.setdefault(h, [0, 0.0])
                cell[0] += 1
                cell[1] += e["cost"]
        return out
    agent_h = hourly(history)
    session_h = hourly([e for e in history if e["session"] == "agent:main:main"])
    bar_calls = max(p95([c[0] for c in agent_h.values()]), p95([c[0] for c in session_h.values()]))
    assert f"made {len(beats)} calls costing ${len(beats) * 0.012:.2f} in the last 60 min" in a["message"], a
    own_p95, agent_p95 = p95([c[0] for c in session_h.values()]), p95([c[0] for c in agent_h.values()])
    hours = len(session_h) if own_p95 >= agent_p95 else len(agent_h)
    assert f"({bar_calls:.0f} calls," in a["message"] and f"p95 of {hours} active hours" in a["message"]
    ratio = len(beats) / bar_calls
    assert ratio >= 8 and a["severity"] == "critical"  # at least twice the factor (4) over the bar
    assert f"{ratio:.1f}×" in a["message"]

    # It resolves by itself once the loop has stopped (the next hour), and stays one alert.
    later = summary(app, now_ms=now + 70 * MIN)["alerts"]
    (r,) = [x for x in later if x["type"] == "runaway"]
    assert (r["id"], r["state"]) == (a["id"], "resolved")


def test_a_busy_day_raises_none(tmp_path: Path) -> None:
    claude, busy = tmp_path / "history", tmp_path / "busy"
    hist = gen_corpus(claude, files=100, assistant_lines=12000, days=10, end_date="2026-11-20", seed=7)
    day = gen_corpus(busy, files=80, assistant_lines=8000, days=1, end_date="2026-11-21", seed=11)
    # Independently: the busy day is several times an ordinary day of the history.
    ordinary = sorted(v["entries"] for d, v in hist["dedupByDay"].items() if "2026-11-12" <= d <= "2026-11-19")
    assert day["dedupByDay"]["2026-11-21"]["entries"] >= 3 * ordinary[len(ordinary) // 2]

    app = make_app(tmp_path, claude_config_dir=f"{claude},{busy}")
    (res,) = ingest(app.store, app.prices, app.sources(["claude-code"]))
    assert res.ok
    det = RunawayDetector(app.settings.runaway)
    t0 = int(datetime(2026, 11, 21, tzinfo=UTC).timestamp() * 1000)
    with app.reader() as conn:
        fired = [c for now in range(t0, t0 + 36 * HOUR, 20 * MIN) for c in det.conditions(conn, now, {}, set())]
        # The detector did look: without its floors and factor the same day shows scopes over their bar.
        loose = RunawayDetector(app.settings.runaway.model_copy(update={"factor": 1.01, "min_calls": 1, "min_cost_usd": 0}))
        near = [c["ratio"] for now in range(t0, t0 + 36 * HOUR, 20 * MIN) for c in loose.conditions(conn, now, {}, set())]
    assert fired == []
    assert near and max(near) < app.settings.runaway.factor
    assert det.baseline_reads <= 36 + 1  # the baseline is re-read when the window enters another hour, not per build
    assert not [a for a in summary(app, now_ms=t0 + 15 * HOUR)["alerts"] if a["type"] == "runaway"]


def _ev(i: int, ts: int, session: str, cost: str = "0.05", agent: str = "bot", source: str = "record") -> UsageEvent:
    return UsageEvent(source, f"{session}-{i}", ts, "openai", "m", input=1, agent=agent, session=session,
                      reported_cost_usd=Decimal(cost))


def _write(app, events: list[UsageEvent]) -> None:  # type: ignore[no-untyped-def]
    app.store.write_batch("record", [(e, app.prices.price(e)) for e in events])


T = int(datetime(2026, 11, 20, 12, tzinfo=UTC).timestamp() * 1000)


def _history(app, sessions: int = 1) -> None:  # type: ignore[no-untyped-def]
    # 10 calls an hour, 12 hours a day, for 7 days, spread over ``sessions`` sessions.
    _write(app, [_ev(10_000 + d * 1000 + h * 10 + k, T - d * 24 * HOUR - h * HOUR - k * MIN, f"s{k % sessions}")
                 for d in range(1, 8) for h in range(12) for k in range(10)])


def _states(app, now: int) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {a["id"]: (a["state"], a["severity"]) for a in summary(app, now_ms=now)["alerts"] if a["type"] == "runaway"}


def test_hysteresis_frozen_baseline_and_resolution(tmp_path: Path) -> None:
    app = make_app(tmp_path, runaway={"minCalls": 30, "minCostUsd": 1})
    _history(app)
    # 50 calls in the hour (5× the bar of 10): warning, not critical (< 8×).
    _write(app, [_ev(k, T - k * 70_000, "loop") for k in range(50)])
    assert _states(app, T) == {"runaway:session:loop": ("open", "warning")}
    # Down to 25 calls in the window: under the opening bar (40, and minCalls 30), above half (20, 15).
    later = T + 30 * MIN
    assert sum(1 for k in range(50) if T - k * 70_000 > later - HOUR) == 26
    assert _states(app, later) == {"runaway:session:loop": ("open", "warning")}
    # The loop goes on for hours: its own hours never become its bar (the baseline ends where it began).
    _write(app, [_ev(1000 + k, T + k * 60_000, "loop") for k in range(6 * 60)])
    assert _states(app, T + 6 * HOUR) == {"runaway:session:loop": ("open", "warning")}
    # It stops: resolved, by itself.
    assert _states(app, T + 8 * HOUR) == {"runaway:session:loop": ("resolved", "warning")}


def test_agent_wide_burst_is_the_agent_alert(tmp_path: Path) -> None:
    app = make_app(tmp_path, runaway={"minCalls": 30, "minCostUsd": 1})
    _history(app, sessions=5)
    # Every session twice as busy as usual: no session is over the agent's bar, the agent is (5×).
    _write(app, [_ev(k, T - k * 70_000, f"s{k % 5}", cost="0.06") for k in range(50)])
    assert _states(app, T) == {"runaway:agent:bot": ("open", "warning")}
    # Floors: the same burst below minCalls is nothing.
    (tmp_path / "q").mkdir()
    quiet = make_app(tmp_path / "q", runaway={"minCalls": 51, "minCostUsd": 1})
    _history(quiet, sessions=5)
    _write(quiet, [_ev(k, T - k * 70_000, f"s{k % 5}") for k in range(50)])
    assert _states(quiet, T) == {}


def test_no_history_is_not_judged_and_subscription_cost_does_not_count(tmp_path: Path) -> None:
    app = make_app(tmp_path, runaway={"minCalls": 30, "minCostUsd": 1}, sources={"record": {"billing": "subscription"}})
    _write(app, [_ev(k, T - k * 10_000, "new") for k in range(300)])  # a fresh install: nothing to compare with
    assert _states(app, T) == {}
    det = RunawayDetector(app.settings.runaway)
    _history(app)
    with app.reader() as conn:
        (c,) = det.conditions(conn, T, {}, {"record"})
    assert c["costUsd"] == 0 and c["calls"] == 300 and math.isclose(c["ratio"], 30)  # calls alone fired it
    assert json.dumps(c)  # plain data
