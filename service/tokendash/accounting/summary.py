"""The ``DashboardSummary`` (SPEC §8): a superset of the original Token Dashboard payload, built from
the store. The API layer caches it in memory; the CLI builds it in-process when no sidecar answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tokendash.accounting.aggregate import UsageQuery, empty_totals, usage
from tokendash.accounting.timezones import today, zone

PROVIDER_NAMES = {
    "anthropic": "Anthropic",
    "openai": "OpenAI",
    "openrouter": "OpenRouter",
    "moonshot": "Moonshot (Kimi)",
    "deepseek": "DeepSeek",
    "google": "Google",
    "xai": "xAI",
    "ollama": "Ollama",
}

SOURCE_KIND = {"claude-code": "local", "codex": "local", "openclaw": "local", "record": "local", "import": "local"}


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def provider_name(pid: str) -> str:
    return PROVIDER_NAMES.get(pid, pid)


def _spend(totals: dict[str, Any], subscription_cost: float, subscription_est: float) -> dict[str, Any]:
    # SPEC §5 rule 7: subscription usage is shown (tokens) but left out of spend.
    t = dict(totals)
    t["costUsd"] = max(0.0, totals["costUsd"] - subscription_cost)
    t["estimatedCostUsd"] = max(0.0, totals["estimatedCostUsd"] - subscription_est)
    return t


def period_totals(
    conn: Any, tz_name: str, start_ms: int, end_ms: int, subscription: Iterable[str] = (),
    filters: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    q = UsageQuery(timezone=tz_name, group_by=["source"], start_ms=start_ms, end_ms=end_ms, filters=filters or {})
    res = usage(conn, q)
    sub = set(subscription)
    cost = sum(r["costUsd"] for r in res["rows"] if r["source"] in sub)
    est = sum(r["estimatedCostUsd"] for r in res["rows"] if r["source"] in sub)
    return _spend(res["totals"], cost, est)


def build_summary(
    conn: Any,
    *,
    tz_name: str,
    now_ms: int,
    currency: str,
    source_states: Mapping[str, Any],
    known_sources: Iterable[tuple[str, str, bool]],  # (id, kind, configured)
    subscription: Iterable[str] = (),
    host: str | None = None,
) -> dict[str, Any]:
    """``host``: only this host's usage (scope ``host`` on a team store); None: every row."""
    tz = zone(tz_name)
    filters: dict[str, list[str]] = {"host": [host]} if host else {}
    day = today(tz, now_ms)
    week_start = day - timedelta(days=day.weekday())
    month_start = day.replace(day=1)

    def midnight(d: Any) -> int:
        return int(datetime(d.year, d.month, d.day, tzinfo=tz).timestamp() * 1000)

    sub = list(subscription)
    end = now_ms + 1
    periods = {
        "today": period_totals(conn, tz_name, midnight(day), end, sub, filters),
        "week": period_totals(conn, tz_name, midnight(week_start), end, sub, filters),
        "month": period_totals(conn, tz_name, midnight(month_start), end, sub, filters),
    }
    month_q = {"timezone": tz_name, "start_ms": midnight(month_start), "end_ms": end, "filters": filters}
    by: dict[str, list[dict[str, Any]]] = {}
    for dim, key in (
        ("provider", "byProvider"),
        ("model", "byModel"),
        ("agent", "byAgent"),
        ("project", "byProject"),
        ("source", "bySource"),
    ):
        by[key] = usage(conn, UsageQuery(group_by=[dim], limit=20, **month_q))["rows"]

    # Burn over trailing windows (SPEC §6): per day from the last 7 days, per hour from the last 24 h.
    week_rows = usage(conn, UsageQuery(group_by=["provider"], timezone=tz_name, start_ms=now_ms - 7 * 86_400_000, end_ms=end,
                                       filters=filters))
    day_rows = usage(conn, UsageQuery(group_by=["provider"], timezone=tz_name, start_ms=now_ms - 86_400_000, end_ms=end,
                                      filters=filters))
    per_day = {r["provider"]: r for r in week_rows["rows"]}
    per_hour = {r["provider"]: r for r in day_rows["rows"]}

    last_success = [s.last_success_ms for s in source_states.values() if s.last_success_ms]
    providers = []
    for row in by["byProvider"]:
        pid = row["provider"]
        w = per_day.get(pid)
        h = per_hour.get(pid)
        providers.append(
            {
                "providerId": pid,
                "name": provider_name(pid),
                "isConfigured": True,
                "isReachable": True,
                "lastChecked": iso(max(last_success)) if last_success else None,
                "error": None,
                "currentUsage": {
                    "providerId": pid,
                    "timestamp": iso(now_ms),
                    "inputTokens": row["tokens"]["input"],
                    "outputTokens": row["tokens"]["output"],
                    "cacheReadTokens": row["tokens"]["cacheRead"],
                    "cacheWriteTokens": row["tokens"]["cacheWrite"],
                    "costUsd": row["costUsd"],
                    "balanceUsd": None,
                    "balance": None,
                    "creditLimitUsd": None,
                },
                "burnRate": {
                    "providerId": pid,
                    "tokensPerHour": (h["tokens"]["total"] / 24) if h else 0,
                    "tokensPerDay": (w["tokens"]["total"] / 7) if w else 0,
                    "costPerHour": (h["costUsd"] / 24) if h else 0,
                    "costPerDay": (w["costUsd"] / 7) if w else 0,
                    "runwayHours": None,
                    "runwayDays": None,
                },
                "stale": False,
            }
        )

    sources = []
    for sid, kind, configured in known_sources:
        st = source_states.get(sid)
        sources.append(
            {
                "id": sid,
                "kind": kind,
                "configured": configured,
                "ok": bool(st and st.error is None and st.last_success_ms),
                "lastPoll": iso(st.last_poll_ms) if st else None,
                "lastSuccess": iso(st.last_success_ms) if st else None,
                "error": st.error if st else None,
                "items": st.items if st else 0,
                "stale": False,
            }
        )
    newest = max(last_success) if last_success else None
    return {
        "timestamp": iso(now_ms),
        "ageSeconds": round((now_ms - newest) / 1000, 3) if newest else None,
        "stale": newest is None,
        "currency": currency,
        "providers": providers,
        "totalBalanceUsd": None,
        "totalDailyCostUsd": sum(p["burnRate"]["costPerDay"] for p in providers),
        "totalRunwayDays": None,
        "periods": periods,
        **by,
        "budgets": [],
        "alerts": [],
        "sources": sources,
    }


__all__ = ["build_summary", "empty_totals", "iso", "period_totals", "provider_name"]
