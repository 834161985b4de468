"""``server_status(app, now)``: the combined report of the server-status prior art (SPEC §7) as a
``ServerStatusReport`` (``protos/tokendash/v1/health.proto``): host health, this month's token
telemetry by provider and model, budget remaining and recommendations.

Telemetry comes from the local usage store (provider billing is not read here). Amounts are USD
(``*Usd``) with the display currency and its rate (``currency``, ``usdPerUnit``) beside them; budgets
are in the display currency, as configured. Subscription sources (SPEC §5 rule 7) are left out of
``month`` and the rows' cost and reported apart at their API-equivalent value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tokendash.accounting.aggregate import UsageQuery, empty_totals, usage
from tokendash.accounting.timezones import local_midnight_ms, today, zone
from tokendash.health.budgets import budget_recommendations, budget_remaining
from tokendash.health.fx import Money

_TOKEN_KEYS = ("input", "output", "cacheRead", "cacheWrite", "reasoning", "total")


def _now_ms(now: datetime | int | float | None) -> int:
    if now is None:
        return int(datetime.now(tz=UTC).timestamp() * 1000)
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return int(now.timestamp() * 1000)
    return int(now)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _add(acc: dict[str, Any], row: Mapping[str, Any], with_cost: bool) -> None:
    for k in _TOKEN_KEYS:
        acc["tokens"][k] += row["tokens"][k]
    acc["unpricedTokens"] += row["unpricedTokens"]
    acc["requests"] += row["requests"]
    if with_cost:
        acc["costUsd"] += row["costUsd"]
        acc["estimatedCostUsd"] += row["estimatedCostUsd"]


def _order(row: Mapping[str, Any]) -> tuple:
    return (-row["costUsd"], -row["tokens"]["total"], row.get("provider") or "", row.get("model") or "")


def telemetry(rows: Iterable[Mapping[str, Any]], subscription: set[str]) -> dict[str, Any]:
    """Usage rows grouped by provider, model and source → ``month`` totals, ``byProvider`` and
    ``byModel`` UsageRows (largest cost first) and ``subscriptionCostUsd``."""
    month = empty_totals()
    providers: dict[str, dict[str, Any]] = {}
    models: dict[tuple[str, str], dict[str, Any]] = {}
    sub_cost = 0.0
    for r in rows:
        metered = r["source"] not in subscription
        if not metered:
            sub_cost += r["costUsd"]
        _add(month, r, metered)
        p = providers.setdefault(r["provider"], {"provider": r["provider"], **empty_totals()})
        _add(p, r, metered)
        m = models.setdefault((r["provider"], r["model"]), {"provider": r["provider"], "model": r["model"], **empty_totals()})
        _add(m, r, metered)
    return {
        "month": month,
        "byProvider": sorted(providers.values(), key=_order),
        "byModel": sorted(models.values(), key=_order),
        "subscriptionCostUsd": sub_cost,
    }


def recent(conn: Any, tz_name: str, day: date, now_ms: int, subscription: set[str]) -> dict[str, Any]:
    """``recentDays`` (the last three local days) and ``recentWeeks`` (this week and the one before),
    oldest first, empty ones as zero rows, subscription sources out of the cost."""
    tz = zone(tz_name)
    this_week = day - timedelta(days=day.weekday())
    days = {day - timedelta(days=i): {"date": (day - timedelta(days=i)).isoformat(), **empty_totals()} for i in (2, 1, 0)}
    weeks = {this_week - timedelta(days=i): {"week": (this_week - timedelta(days=i)).isoformat(), **empty_totals()} for i in (7, 0)}
    start = min(min(days), min(weeks))
    q = UsageQuery(timezone=tz_name, group_by=["day", "source"], start_ms=local_midnight_ms(start, tz), end_ms=now_ms + 1)
    for r in usage(conn, q)["rows"]:
        d = date.fromisoformat(r["date"])
        metered = r["source"] not in subscription
        if d in days:
            _add(days[d], r, metered)
        w = d - timedelta(days=d.weekday())
        if w in weeks:
            _add(weeks[w], r, metered)
    return {"recentDays": list(days.values()), "recentWeeks": list(weeks.values())}


def server_status(app: Any, now: datetime | int | None = None, *, health: dict[str, Any] | None = None,
                  probe_timeout: float | None = None) -> dict[str, Any]:
    """The report at ``now`` (default: the current time). ``health`` replaces the live readings (tests,
    or a caller that already has them)."""
    money = Money.display(app.settings.currency, app.settings.fx)  # fails early on a missing rate
    now_ms = _now_ms(now)
    tz_name = app.timezone
    tz = zone(tz_name)
    day = today(tz, now_ms)
    month_start = day.replace(day=1)
    sub = app.subscription_sources()
    q = UsageQuery(timezone=tz_name, group_by=["provider", "model", "source"],
                   start_ms=local_midnight_ms(month_start, tz), end_ms=now_ms + 1)
    with app.reader() as conn:
        rows = usage(conn, q)["rows"]
        timeline = recent(conn, tz_name, day, now_ms, sub)
        budgets = budget_remaining(conn, app.settings.budgets, tz_name=tz_name, now_ms=now_ms, money=money,
                                   subscription=sub)
    if health is None:
        from tokendash.health.collect import collect_health

        health = collect_health(app, probe_timeout=probe_timeout)
    report: dict[str, Any] = {
        "timestamp": _iso(now_ms),
        "status": health.get("status", "UNKNOWN"),
        "timezone": tz_name,
        "currency": money.currency,
        "usdPerUnit": money.usd_per_unit,
        "period": f"{month_start.year:04d}-{month_start.month:02d}",
        "health": health,
        **telemetry(rows, sub),
        **timeline,
        **budgets,
        "recommendations": list(health.get("recommendations") or []) + budget_recommendations(budgets["budgets"], money.currency),
    }
    return report
