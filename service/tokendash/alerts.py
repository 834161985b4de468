"""Alerts (SPEC §6): the conditions that hold now, turned into persisted alerts, one per type and scope.

Each dashboard build states what holds (a budget past its first threshold, a source failing, a balance
under its threshold, today's spend over its limit) as conditions with a stable id (``type:scope``).
``reconcile`` then opens an alert for a new condition (first seen now), refreshes one that holds again
(last seen now; severity and message follow the condition) and resolves an open alert whose condition no
longer holds. Alerts live in the store, so first-seen times and resolutions survive restarts.

Rules (thresholds from ``alertThresholds.<provider>``, SPEC §3):
- ``budget``: warning at the budget's first threshold, critical at its second and when exceeded;
- ``error``: a source whose last pass failed (warning);
- ``low_balance``: balance below ``balanceUsd`` → warning, below half of it → critical (the original rule);
- ``high_spend``: a provider's spend today (local day) above ``dailySpendUsd`` → warning;
- ``runaway``: one agent or session far above its own recent rate (``tokendash.runaway``, which
  defines it exactly);
- ``health``: the host limits of the last health reading this process took (``tokendash.health``);
  before the first reading, open health alerts are left as they are.

Every transition (opened, severity changed, resolved) is queued for the webhooks in the same
transaction (``tokendash.outbox``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Engine

from tokendash.store import models as m


def conditions(summary: Mapping[str, Any], thresholds: Mapping[str, Any],
               today_by_provider: Mapping[str, float]) -> list[dict[str, Any]]:
    """What holds now, as ``{id, type, scope, providerId?, severity, message}``."""
    out: list[dict[str, Any]] = []
    for b in summary.get("budgets") or []:
        if b["state"] == "ok":
            continue
        out.append({
            "id": f"budget:{b['id']}", "type": "budget", "scope": b["id"],
            "severity": "warning" if b["state"] == "warning" else "critical",
            "message": f"Budget {b['id']} ({b['period']}) at {b['percent']:.0f} %: {b['spent']:.2f} of "
                       f"{b['limit']:.2f} {b['currency']}",
        })
    for s in summary.get("sources") or []:
        if s.get("error"):
            out.append({"id": f"error:{s['id']}", "type": "error", "scope": s["id"], "severity": "warning",
                        "message": f"Source {s['id']} failed: {s['error']}"})
    for p in summary.get("providers") or []:
        pid = p["providerId"]
        t = thresholds.get(pid)
        if t is None:
            continue
        balance = (p.get("currentUsage") or {}).get("balanceUsd")
        if t.balance_usd is not None and balance is not None and balance < t.balance_usd:
            critical = balance < t.balance_usd / 2
            out.append({
                "id": f"low_balance:{pid}", "type": "low_balance", "scope": pid, "providerId": pid,
                "severity": "critical" if critical else "warning",
                "message": f"{p.get('name', pid)} balance ${balance:.2f} is below ${t.balance_usd:.2f}",
            })
        spent = today_by_provider.get(pid, 0.0)
        if t.daily_spend_usd is not None and spent > t.daily_spend_usd:
            out.append({
                "id": f"high_spend:{pid}", "type": "high_spend", "scope": pid, "providerId": pid,
                "severity": "warning",
                "message": f"{p.get('name', pid)} spent ${spent:.2f} today, over ${t.daily_spend_usd:.2f}",
            })
    return out


def reconcile(engine: Engine, held: Iterable[Mapping[str, Any]], now_ms: int, webhooks: Sequence[Any] = (),
              keep_types: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Open, refresh and resolve the stored alerts so that exactly the held conditions are open; returns
    the transitions (``{alert, transition, previousSeverity?}``).

    Each transition (opened, severity changed, resolved) is queued in the outbox once per webhook in
    the same transaction (``tokendash.outbox``). Every state change is a conditional UPDATE whose row
    count says whether this call made it, so two processes reconciling one store at once cannot both
    report the same transition. Alerts of a type in ``keep_types`` whose condition is unknown right
    now (no health reading yet in this process) are left as they are, neither refreshed nor resolved."""
    from tokendash.outbox import enqueue

    t = m.alerts
    held = {c["id"]: c for c in held}
    keep = set(keep_types)
    out: list[dict[str, Any]] = []
    with engine.begin() as conn:
        stored = {r.id: r for r in conn.execute(select(t))}
        for aid, c in held.items():
            values = {"type": c["type"], "scope": c["scope"], "provider_id": c.get("providerId"),
                      "severity": c["severity"], "message": c["message"], "last_seen_ms": now_ms}
            row = stored.get(aid)
            if row is None:
                conn.execute(t.insert().values(id=aid, state="open", first_seen_ms=now_ms, **values))
                out.append({"transition": "opened", "alert": _alert(aid, "open", now_ms, now_ms, None, values)})
            elif row.state == "open":
                done = conn.execute(update(t).where(and_(t.c.id == aid, t.c.state == "open",
                                                         t.c.severity == row.severity)).values(**values))
                if done.rowcount == 1 and row.severity != c["severity"]:
                    out.append({"transition": "severity", "previousSeverity": row.severity,
                                "alert": _alert(aid, "open", row.first_seen_ms, now_ms, None, values)})
            else:  # it came back: a new episode
                done = conn.execute(update(t).where(and_(t.c.id == aid, t.c.state != "open")).values(
                    state="open", first_seen_ms=now_ms, resolved_ms=None, **values))
                if done.rowcount == 1:
                    out.append({"transition": "opened", "alert": _alert(aid, "open", now_ms, now_ms, None, values)})
        for aid, row in stored.items():
            if row.state == "open" and aid not in held and row.type not in keep:
                done = conn.execute(update(t).where(and_(t.c.id == aid, t.c.state == "open"))
                                    .values(state="resolved", resolved_ms=now_ms))
                if done.rowcount == 1:
                    values = {"type": row.type, "scope": row.scope, "provider_id": row.provider_id,
                              "severity": row.severity, "message": row.message}
                    out.append({"transition": "resolved",
                                "alert": _alert(aid, "resolved", row.first_seen_ms, row.last_seen_ms, now_ms, values)})
        if webhooks:
            for tr in out:
                enqueue(conn, webhooks, "alert", {"event": "alert", **tr}, now_ms,
                        alert_id=tr["alert"]["id"], transition=tr["transition"])
    return out


def _alert(aid: str, state: str, first_ms: int, last_ms: int, resolved_ms: int | None,
           v: Mapping[str, Any]) -> dict[str, Any]:
    """A ``UsageAlert`` dict, as ``stored_alerts`` gives it."""
    from tokendash.accounting.summary import iso

    a: dict[str, Any] = {
        "id": aid, "scope": v["scope"], "type": v["type"], "message": v["message"], "severity": v["severity"],
        "state": state, "firstSeen": iso(first_ms), "lastSeen": iso(last_ms), "timestamp": iso(resolved_ms or last_ms),
    }
    if v.get("provider_id"):
        a["providerId"] = v["provider_id"]
    return a


def open_alerts(engine: Engine, type_: str) -> dict[str, dict[str, Any]]:
    """The open alerts of one type: ``{id: {first_seen_ms, severity}}``."""
    t = m.alerts
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.id, t.c.first_seen_ms, t.c.severity)
                            .where(and_(t.c.state == "open", t.c.type == type_))).all()
    return {r.id: {"first_seen_ms": r.first_seen_ms, "severity": r.severity} for r in rows}


def stored_alerts(engine: Engine, limit: int = 200) -> list[dict[str, Any]]:
    """``[UsageAlert]``: open alerts first, then the most recently resolved."""
    from tokendash.accounting.summary import iso

    t = m.alerts
    with engine.connect() as conn:
        rows = conn.execute(
            select(t).order_by((t.c.state == "open").desc(), t.c.last_seen_ms.desc()).limit(limit)
        ).all()
    out = []
    for r in rows:
        a: dict[str, Any] = {
            "id": r.id, "scope": r.scope, "type": r.type, "message": r.message, "severity": r.severity,
            "state": r.state, "firstSeen": iso(r.first_seen_ms), "lastSeen": iso(r.last_seen_ms),
            "timestamp": iso(r.resolved_ms or r.last_seen_ms),
        }
        if r.provider_id:
            a["providerId"] = r.provider_id
        out.append(a)
    return out
