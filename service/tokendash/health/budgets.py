"""Budget remaining for the server-status report, from the configured ``[[budgets]]`` (SPEC §3, §6).

Each budget's spend is the current period's (today, this week from Monday, this month, in the report's
time zone) cost within its scope, subscription sources left out (SPEC §5 rule 7), converted to the
display currency in which the limit is given. State: ``ok`` below the first threshold, then
``warning``, ``critical`` and ``exceeded`` at or above the budget's thresholds (default 75, 90, 100 %).
``budgetRemaining`` is what is left of the whole-account monthly budget (the prior art's one budget),
when one is configured. With no budget configured the result says so; there is no default limit.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from tokendash.accounting.aggregate import UsageQuery, usage
from tokendash.accounting.timezones import local_midnight_ms, today, zone
from tokendash.health.fx import Money

STATES = ("warning", "critical", "exceeded")
NONE_CONFIGURED = "no budgets configured (add [[budgets]] to config.toml)"


def period_bounds(period: str, day: date) -> tuple[date, date]:
    """First and last local day of the budget period holding ``day``."""
    if period == "daily":
        return day, day
    if period == "weekly":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def budget_state(percent: float, thresholds: Sequence[float]) -> str:
    state = "ok"
    for name, limit in zip(STATES, sorted(thresholds), strict=False):
        if percent >= limit:
            state = name
    return state


def _spent_usd(conn: Any, tz_name: str, start_ms: int, end_ms: int, filters: dict[str, list[str]],
               subscription: set[str]) -> float:
    q = UsageQuery(timezone=tz_name, group_by=["source"], filters=filters, start_ms=start_ms, end_ms=end_ms)
    return sum(r["costUsd"] for r in usage(conn, q)["rows"] if r["source"] not in subscription)


def budget_remaining(conn: Any, budgets: Iterable[Any], *, tz_name: str, now_ms: int, money: Money,
                     subscription: Iterable[str] = ()) -> dict[str, Any]:
    """``{budgets: [BudgetStatus], budgetRemaining?, budgetNote?}``."""
    budgets = list(budgets)
    if not budgets:
        return {"budgets": [], "budgetNote": NONE_CONFIGURED}
    tz = zone(tz_name)
    day = today(tz, now_ms)
    sub = set(subscription)
    out: dict[str, Any] = {"budgets": []}
    for b in budgets:
        start, end = period_bounds(b.period, day)
        scope = {k: v for k, v in b.scope.model_dump().items() if v is not None}
        spent = money.from_usd(_spent_usd(conn, tz_name, local_midnight_ms(start, tz), now_ms + 1,
                                          {k: [v] for k, v in scope.items()}, sub))
        percent = spent / b.limit * 100
        out["budgets"].append({
            "id": b.id,
            "period": b.period,
            "scope": scope,
            "limit": b.limit,
            "spent": spent,
            "percent": percent,
            "state": budget_state(percent, b.thresholds),
            "currency": money.currency,
            "periodStart": start.isoformat(),
            "periodEnd": end.isoformat(),
        })
        if b.period == "monthly" and not scope and "budgetRemaining" not in out:
            out["budgetRemaining"] = b.limit - spent
    return out


def budget_recommendations(budgets: Iterable[dict[str, Any]], currency: str) -> list[dict[str, str]]:
    from tokendash.health.text import money as fmt

    out = []
    for b in budgets:
        if b["state"] == "ok":
            continue
        severity = "warning" if b["state"] == "warning" else "critical"
        advice = "spending is over the limit" if b["state"] == "exceeded" else "spending is high: route work to cheaper models"
        out.append({
            "severity": severity,
            "message": f"Budget {b['id']} ({b['period']}) at {b['percent']:.0f} % of {fmt(b['limit'], currency)}: {advice}",
        })
    return out
