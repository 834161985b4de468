"""``server_status(app, now)``: the combined report of the server-status prior art (SPEC §7) as a
``ServerStatusReport`` dict: host health, this month's token telemetry by provider and model in the
display currency, budget remaining and recommendations.

Telemetry comes from the local usage store (provider billing is not read here). Subscription sources
(SPEC §5 rule 7) are shown at their API-equivalent value apart from the spend.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from tokendash.accounting.aggregate import UsageQuery, usage
from tokendash.accounting.timezones import local_midnight_ms, today, zone
from tokendash.health.budgets import budget_recommendations, budget_remaining
from tokendash.health.fx import Money

TOP_MODELS = 10


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


class _Acc:
    __slots__ = ("input", "output", "cache_read", "cache_write", "requests", "cost", "sub_cost", "unpriced")

    def __init__(self) -> None:
        self.input = self.output = self.cache_read = self.cache_write = self.requests = self.unpriced = 0
        self.cost = self.sub_cost = 0.0

    def add(self, row: Mapping[str, Any], subscription: bool) -> None:
        t = row["tokens"]
        self.input += t["input"]
        self.output += t["output"]
        self.cache_read += t["cacheRead"]
        self.cache_write += t["cacheWrite"]
        self.requests += row["requests"]
        self.unpriced += row["unpricedTokens"]
        if subscription:
            self.sub_cost += row["costUsd"]
        else:
            self.cost += row["costUsd"]

    def out(self, money: Money) -> dict[str, Any]:
        d: dict[str, Any] = {
            "totalTokens": self.input + self.output + self.cache_read + self.cache_write,
            "inputTokens": self.input,
            "outputTokens": self.output,
            "cacheReadTokens": self.cache_read,
            "cacheWriteTokens": self.cache_write,
            "requests": self.requests,
            "costUsd": self.cost,
            "cost": money.from_usd(self.cost),
            "unpricedTokens": self.unpriced,
        }
        if self.sub_cost:
            d["subscriptionCostUsd"] = self.sub_cost
            d["subscriptionCost"] = money.from_usd(self.sub_cost)
        return d


def _order(d: dict[str, Any]) -> tuple:
    return (-(d["costUsd"] + d.get("subscriptionCostUsd", 0.0)), -d["totalTokens"])


def telemetry(rows: Iterable[Mapping[str, Any]], subscription: set[str], money: Money) -> dict[str, Any]:
    """Usage rows grouped by provider, model and source → totals, providers (with their models) and
    the top models across providers."""
    total = _Acc()
    providers: dict[str, _Acc] = {}
    models: dict[tuple[str, str], _Acc] = {}
    for r in rows:
        sub = r["source"] in subscription
        total.add(r, sub)
        providers.setdefault(r["provider"], _Acc()).add(r, sub)
        models.setdefault((r["provider"], r["model"]), _Acc()).add(r, sub)
    by_model = sorted(
        ({"provider": p, "model": m, **acc.out(money)} for (p, m), acc in models.items()),
        key=lambda d: (*_order(d), d["provider"], d["model"]),
    )
    by_provider = []
    for p, acc in providers.items():
        entry = {"provider": p, **acc.out(money)}
        entry["models"] = [{k: v for k, v in m.items() if k != "provider"} for m in by_model if m["provider"] == p]
        by_provider.append(entry)
    by_provider.sort(key=lambda d: (*_order(d), d["provider"]))
    return {"totals": total.out(money), "byProvider": by_provider, "byModel": by_model[:TOP_MODELS]}


def server_status(app: Any, now: datetime | int | None = None, *, health: dict[str, Any] | None = None,
                  probe_timeout: float | None = None) -> dict[str, Any]:
    """The report at ``now`` (default: the current time). ``health`` replaces the live readings (tests,
    or a caller that already has them)."""
    money = Money.display(app.settings.currency, app.settings.fx)  # fails early on a missing rate
    now_ms = _now_ms(now)
    tz_name = app.timezone
    tz = zone(tz_name)
    month_start = today(tz, now_ms).replace(day=1)
    sub = app.subscription_sources()
    q = UsageQuery(timezone=tz_name, group_by=["provider", "model", "source"],
                   start_ms=local_midnight_ms(month_start, tz), end_ms=now_ms + 1)
    with app.reader() as conn:
        rows = usage(conn, q)["rows"]
        budgets = budget_remaining(conn, app.settings.budgets, tz_name=tz_name, now_ms=now_ms, money=money,
                                   subscription=sub)
    if health is None:
        from tokendash.health.collect import collect_health

        health = collect_health(app, probe_timeout=probe_timeout)
    tele = telemetry(rows, sub, money)
    tele["period"] = f"{month_start.year:04d}-{month_start.month:02d}"
    tele["since"] = month_start.isoformat()
    return {
        "timestamp": _iso(now_ms),
        "timezone": tz_name,
        "currency": money.currency,
        "usdPerUnit": money.usd_per_unit,
        "health": health,
        "telemetry": tele,
        "budgets": budgets,
        "recommendations": list(health.get("recommendations") or []) + budget_recommendations(budgets, money.currency),
    }
