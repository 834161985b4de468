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
- ``high_spend``: a provider's spend today (local day) above ``dailySpendUsd`` → warning.
Not here yet: ``runaway`` and ``health`` (the health module states its own alerts for ``health``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select, update
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


def reconcile(engine: Engine, held: Iterable[Mapping[str, Any]], now_ms: int) -> None:
    """Open, refresh and resolve the stored alerts so that exactly the held conditions are open."""
    t = m.alerts
    held = {c["id"]: c for c in held}
    with engine.begin() as conn:
        stored = {r.id: r for r in conn.execute(select(t.c.id, t.c.state))}
        for aid, c in held.items():
            values = {"type": c["type"], "scope": c["scope"], "provider_id": c.get("providerId"),
                      "severity": c["severity"], "message": c["message"], "last_seen_ms": now_ms}
            row = stored.get(aid)
            if row is None:
                conn.execute(t.insert().values(id=aid, state="open", first_seen_ms=now_ms, **values))
            elif row.state == "open":
                conn.execute(update(t).where(t.c.id == aid).values(**values))
            else:  # it came back: a new episode
                conn.execute(update(t).where(t.c.id == aid).values(
                    state="open", first_seen_ms=now_ms, resolved_ms=None, **values))
        for aid, row in stored.items():
            if row.state == "open" and aid not in held:
                conn.execute(update(t).where(t.c.id == aid).values(state="resolved", resolved_ms=now_ms))


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
