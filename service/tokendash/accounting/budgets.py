"""Budgets (SPEC §3, §6): spend of the current period (today, this week from Monday, this month, in the
dashboard's time zone) within each budget's scope, against its limit in the display currency.

Spend is cost from the store, subscription sources left out (SPEC §5 rule 7). State: ``ok`` below the
first threshold, then ``warning``, ``critical`` and ``exceeded`` at or above the budget's thresholds
(default 75, 90, 100 %). ``projected`` is the end-of-period spend at the period's pace so far: spent ÷
elapsed share of the period (a budget checked one hour into a day with $1 spent projects $24).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from tokendash.accounting.aggregate import UsageQuery, usage
from tokendash.accounting.timezones import local_midnight_ms, today, zone

STATES = ("warning", "critical", "exceeded")


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


def evaluate_budgets(conn: Any, budgets: Iterable[Any], *, tz_name: str, now_ms: int, from_usd: Any,
                     currency: str, subscription: Iterable[str] = ()) -> list[dict[str, Any]]:
    """``[BudgetStatus]`` for the configured budgets (``config.settings.Budget``); ``from_usd`` converts
    USD to the display currency the limits are given in."""
    tz = zone(tz_name)
    day = today(tz, now_ms)
    sub = set(subscription)
    out = []
    for b in budgets:
        start, end = period_bounds(b.period, day)
        start_ms = local_midnight_ms(start, tz)
        end_ms = local_midnight_ms(end + timedelta(days=1), tz)  # DST-aware length of the period
        scope = {k: v for k, v in b.scope.model_dump().items() if v is not None}
        spent = from_usd(_spent_usd(conn, tz_name, start_ms, now_ms + 1, {k: [v] for k, v in scope.items()}, sub))
        percent = spent / b.limit * 100
        elapsed = max(now_ms - start_ms, 60_000) / (end_ms - start_ms)  # at least a minute: no blow-up at 00:00
        out.append({
            "id": b.id,
            "period": b.period,
            "scope": scope,
            "limit": b.limit,
            "spent": spent,
            "percent": percent,
            "state": budget_state(percent, b.thresholds),
            "projected": spent / min(elapsed, 1.0),
            "currency": currency,
            "periodStart": start.isoformat(),
            "periodEnd": end.isoformat(),
        })
    return out
