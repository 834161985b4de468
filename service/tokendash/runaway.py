"""The ``runaway`` alert rule (SPEC §6): one agent or one session spending far above its own recent rate
— the heartbeat loop that emits a call every few seconds for an hour — without firing on a busy day.

Definition (parameters are ``settings.runaway``, defaults in brackets):

* The window is the last ``windowMinutes`` [60] up to now. For every session and every agent with calls
  in it: ``calls`` and ``cost`` (USD; a subscription source's calls count, its cost does not).
  An event without an agent counts under its source's name (``claude-code``, ``codex``).
* The baseline of a scope is its "usual busy hour": the 95th percentile (nearest rank), separately of
  calls and of cost, of its *active* clock hours (UTC hours with at least one call) in the
  ``baselineDays`` [7] before the window, scaled to the window's length. Hours without calls are left
  out, so an agent used two hours a week is compared with those two hours, not with 166 idle ones.
  A scope needs ``minHistoryHours`` [3] active hours; a session without them (a new one) is compared
  with its agent's baseline; an agent without them is not judged (nothing to compare with).
* A scope fires when ``calls >= minCalls`` [60] and either ``cost >= minCostUsd`` [2] and
  ``cost >= factor × baseline cost`` [factor 4], or ``calls >= factor × baseline calls``.
* An agent's own check leaves out the sessions that fire: a single looping session is one alert
  (``runaway:session:<key>``), not two; ``runaway:agent:<id>`` means the agent as a whole is running away.
* Hysteresis: an open alert holds while the scope stays above half of every threshold (half the
  factor, ``minCalls`` and ``minCostUsd``), so a loop hovering at the line does not open and resolve
  over and over; it resolves by itself once the burst stops. While an alert is open its scope's
  baseline ends where the alert began, so a loop running for hours does not become its own baseline.
* Severity: ``warning``; ``critical`` when the measure that fired is at least twice ``factor`` times
  its baseline; it is not lowered again within one episode.

Cost: one indexed time-range query over the window on every dashboard build (a few hundred rows in a
busy hour); the baseline is one grouped query over the baseline days, cached, read again from scratch
every ``baselineRefreshSeconds`` [300] or when the window moves into another clock hour, and in between
brought up to date with the rows stored since (a primary-key range: only the new rows are read).
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

HOUR_MS = 3_600_000
NANO = 1e9


def percentile(values: list[float], q: float = 95.0) -> float:
    """Nearest-rank percentile of a non-empty list."""
    s = sorted(values)
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


@dataclass
class Baseline:
    calls: float  # per hour
    cost: float  # USD per hour
    hours: int  # active hours it was taken from
    of: str  # "own" or "agent"


@dataclass
class _Hours:
    # {hour: [calls, cost_usd]} of the scope's active hours in the cached baseline range
    by_hour: dict[int, list[float]] = field(default_factory=dict)

    def add(self, hour: int, calls: int, cost: float) -> None:
        cell = self.by_hour.setdefault(hour, [0, 0.0])
        cell[0] += calls
        cell[1] += cost

    def baseline(self, first_hour: int, end_hour: int, min_hours: int, of: str) -> Baseline | None:
        cells = [c for h, c in self.by_hour.items() if first_hour <= h < end_hour and c[0] > 0]
        if len(cells) < min_hours:
            return None
        return Baseline(percentile([c[0] for c in cells]), percentile([c[1] for c in cells]), len(cells), of)


def agent_key(source: str, agent: str | None) -> str:
    return agent or source


def _cost(source: str, cost_nusd: Any, subscription: set[str]) -> float:
    return 0.0 if source in subscription or cost_nusd is None else float(cost_nusd) / NANO


class RunawayDetector:
    """Keeps the baseline between dashboard builds (one per App, so per sidecar)."""

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self._lock = threading.Lock()
        self._loaded_at = float("-inf")  # time.monotonic() of the last baseline read
        self._range: tuple[int, int] | None = None  # [first_hour, end_hour) read
        self._agents: dict[str, _Hours] = {}
        self._sessions: dict[str, _Hours] = {}
        self._all = _Hours()
        self._max_id = -1  # the newest event id the cached baseline has seen
        self.baseline_reads = 0  # for tests: how often the baseline query ran

    # -- the store ------------------------------------------------------------------------------

    def _refresh(self, conn: Any, first_hour: int, end_hour: int, subscription: set[str]) -> None:
        """Read the baseline range again, from scratch."""
        self._agents, self._sessions, self._all = {}, {}, _Hours()
        self._range = (first_hour, end_hour)
        self._max_id = -1
        self._add(conn, "ts_ms >= :a AND ts_ms < :b", {"a": first_hour * HOUR_MS, "b": end_hour * HOUR_MS},
                  subscription)
        self._loaded_at = time.monotonic()
        self.baseline_reads += 1

    def _catch_up(self, conn: Any, subscription: set[str]) -> None:
        """Add the events stored since the last read (by row id: a primary-key range, so only the new
        rows are read) that fall in the baseline range: history ingested after the sidecar started
        counts at once, not after the next full read."""
        assert self._range is not None
        first_hour, end_hour = self._range
        # ``+ts_ms``: keeps SQLite on the primary key instead of the time index (days of rows).
        self._add(conn, "id > :m AND +ts_ms >= :a AND +ts_ms < :b",
                  {"m": self._max_id, "a": first_hour * HOUR_MS, "b": end_hour * HOUR_MS}, subscription)

    def _add(self, conn: Any, where: str, params: dict[str, Any], subscription: set[str]) -> None:
        top = conn.all("SELECT MAX(id) FROM usage_events")[0][0]
        if top is None or top <= self._max_id:
            return
        params = {**params, "top": top}
        for source, agent, session, h, n, cost in conn.all(
            "SELECT source, agent, session, ts_ms / 3600000 AS h, COUNT(*), SUM(cost_nusd) FROM usage_events "
            f"WHERE {where} AND id <= :top GROUP BY source, agent, session, ts_ms / 3600000", params,
        ):
            c = _cost(source, cost, subscription)
            a = agent_key(source, agent)
            self._agents.setdefault(a, _Hours()).add(int(h), int(n), c)
            self._all.add(int(h), int(n), c)
            if session:
                self._sessions.setdefault(session, _Hours()).add(int(h), int(n), c)
        self._max_id = top

    def conditions(self, conn: Any, now_ms: int, open_alerts: Mapping[str, Mapping[str, Any]],
                   subscription: set[str] | frozenset[str] = frozenset()) -> list[dict[str, Any]]:
        """The runaway conditions that hold at ``now_ms``. ``conn``: a ``Reader``; ``open_alerts``: the open
        ``runaway:*`` alerts by id, with ``first_seen_ms`` and ``severity``."""
        cfg = self.cfg
        if not cfg.enabled:
            return []
        sub = set(subscription)
        window_ms = int(cfg.window_minutes * 60_000)
        start = now_ms - window_ms
        end_hour = start // HOUR_MS  # baseline: whole clock hours before the window
        first_hour = end_hour - 24 * cfg.baseline_days
        with self._lock:
            if (self._range != (first_hour, end_hour)
                    or time.monotonic() - self._loaded_at >= cfg.baseline_refresh_seconds):
                self._refresh(conn, first_hour, end_hour, sub)
            else:
                self._catch_up(conn, sub)
            agents, sessions, everything = self._agents, self._sessions, self._all

        # The window, by agent and session.
        win_sessions: dict[str, list[Any]] = {}  # session -> [calls, cost, agent]
        win_agents: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        for source, agent, session, n, cost in conn.all(
            "SELECT source, agent, session, COUNT(*), SUM(cost_nusd) FROM usage_events "
            "WHERE ts_ms > :a AND ts_ms <= :b GROUP BY source, agent, session",
            {"a": start, "b": now_ms},
        ):
            c = _cost(source, cost, sub)
            a = agent_key(source, agent)
            win_agents[a][0] += n
            win_agents[a][1] += c
            if session:
                cell = win_sessions.setdefault(session, [0, 0.0, a])
                cell[0] += n
                cell[1] += c

        scale = cfg.window_minutes / 60.0
        out: list[dict[str, Any]] = []

        def end_for(aid: str) -> int:
            # While an alert is open, its scope's baseline stops where the episode began.
            a = open_alerts.get(aid)
            if a is None:
                return end_hour
            return min(end_hour, (int(a["first_seen_ms"]) - window_ms) // HOUR_MS)

        flagged: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])  # agent -> firing sessions' totals
        mh = cfg.min_history_hours

        def agent_base(a: str, end: int) -> Baseline | None:
            hours = agents.get(a)
            own = hours.baseline(first_hour, end, mh, "own") if hours else None
            return own or everything.baseline(first_hour, end, mh, "all")

        for skey, (n, c, a) in win_sessions.items():
            aid = _alert_id("session", skey)
            end = end_for(aid)
            own_hours = sessions.get(skey)
            base = _larger(own_hours.baseline(first_hour, end, mh, "own") if own_hours else None,
                           agent_base(a, end))
            if base is None:
                continue
            hit = self._judge(n, c, base, scale, aid in open_alerts)
            if hit is None:
                continue
            flagged[a][0] += n
            flagged[a][1] += c
            out.append(self._condition("session", skey, n, c, base, scale, hit, open_alerts.get(aid),
                                       agent=a))
        for a, (n, c) in win_agents.items():
            aid = _alert_id("agent", a)
            base = agent_base(a, end_for(aid))
            if base is None:
                continue
            n -= flagged[a][0]
            c -= flagged[a][1]
            hit = self._judge(n, c, base, scale, aid in open_alerts)
            if hit is not None:
                out.append(self._condition("agent", a, n, c, base, scale, hit, open_alerts.get(aid)))
        return out

    def _judge(self, calls: float, cost: float, base: Baseline, scale: float, is_open: bool) -> float | None:
        """The ratio that fired (the larger one), or None."""
        cfg = self.cfg
        k = 0.5 if is_open else 1.0  # hysteresis
        if calls < cfg.min_calls * k:
            return None
        ratios = []
        base_cost = base.cost * scale
        if cost >= cfg.min_cost_usd * k and cost >= cfg.factor * k * base_cost:
            ratios.append(cost / base_cost if base_cost > 0 else math.inf)
        base_calls = base.calls * scale
        if calls >= cfg.factor * k * base_calls:
            ratios.append(calls / base_calls if base_calls > 0 else math.inf)
        return max(ratios) if ratios else None

    def _condition(self, kind: str, key: str, calls: float, cost: float, base: Baseline, scale: float,
                   ratio: float, was: Mapping[str, Any] | None, agent: str | None = None) -> dict[str, Any]:
        cfg = self.cfg
        severity = "critical" if ratio >= 2 * cfg.factor or (was and was.get("severity") == "critical") else "warning"
        what = f"Session {key} (agent {agent})" if kind == "session" else f"Agent {key}"
        usual = {"own": "its usual busy hour", "agent": "its agent's usual busy hour",
                 "all": "the usual busy hour of all usage"}[base.of]
        times = "far" if math.isinf(ratio) else f"{ratio:.1f}×"
        return {
            "id": _alert_id(kind, key), "type": "runaway", "scope": f"{kind}:{key}"[:256], "severity": severity,
            "message": (f"{what} made {int(calls)} calls costing ${cost:.2f} in the last {cfg.window_minutes:g} min, "
                        f"{times} {usual} ({base.calls * scale:.0f} calls, ${base.cost * scale:.2f}; "
                        f"p95 of {base.hours} active hours in {cfg.baseline_days} days)"),
            "calls": int(calls), "costUsd": cost, "ratio": ratio,
            "baseline": {"calls": base.calls * scale, "costUsd": base.cost * scale, "hours": base.hours,
                         "of": base.of},
        }


def _larger(own: Baseline | None, other: Baseline | None) -> Baseline | None:
    """The larger of two baselines, measure by measure (a session is held to its agent's bar too)."""
    if own is None or other is None:
        return own or other
    top = own if own.calls >= other.calls else other
    return Baseline(max(own.calls, other.calls), max(own.cost, other.cost), top.hours, top.of)


def _alert_id(kind: str, key: str) -> str:
    return f"runaway:{kind}:{key}"[:256]
