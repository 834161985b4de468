"""Budget remaining for the server-status report, from the configured ``[[budgets]]`` (SPEC §3, §6).

Each budget's spend is the current period's (today, this week from Monday, this month, in the report's
time zone) cost within its scope, subscription sources left out (SPEC §5 rule 7), converted to the
display currency in which the limit is given. State: ``ok`` below the first threshold, then
``warning``, ``critical`` and ``exceeded`` at or above the budget's thresholds (default 75, 90, 100 %).
``budgetRemaining`` is what is left of the whole-account monthly budget (the prior art's one budget),
when one is configured. With no budget configured the result says so; there is no default limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tokendash.accounting.budgets import budget_state, evaluate_budgets, period_bounds
from tokendash.health.fx import Money

__all__ = ["budget_recommendations", "budget_remaining", "budget_state", "period_bounds"]

NONE_CONFIGURED = "no budgets configured (add [[budgets]] to config.toml)"


def budget_remaining(conn: Any, budgets: Iterable[Any], *, tz_name: str, now_ms: int, money: Money,
                     subscription: Iterable[str] = ()) -> dict[str, Any]:
    """``{budgets: [BudgetStatus], budgetRemaining?, budgetNote?}``."""
    budgets = list(budgets)
    if not budgets:
        return {"budgets": [], "budgetNote": NONE_CONFIGURED}
    out: dict[str, Any] = {"budgets": evaluate_budgets(
        conn, budgets, tz_name=tz_name, now_ms=now_ms, from_usd=money.from_usd, currency=money.currency,
        subscription=subscription,
    )}
    for b in out["budgets"]:
        if b["period"] == "monthly" and not b["scope"]:
            out["budgetRemaining"] = b["limit"] - b["spent"]
            break
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
