"""Provider figures as the API shows them (SPEC §8): ``ProviderInfo``, the ``providers`` entries of
``DashboardSummary``, ``BurnRate`` and the billed-vs-attributed reconciliation. Every result is a
proto-JSON-shaped dict: camelCase, JSON numbers, ``null`` rather than NaN.

Spend of a provider (SPEC §5 rule 6) is what its billing API reported when that source is configured
and fresh, else the sum of local estimates; the two are never added, and both are reported.
Freshness: the last poll reached the cost endpoints and succeeded within two poll intervals (plus five
minutes of grace). A provider whose last poll failed keeps its last good figures, flagged ``stale``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tokendash.providers.base import ProviderDef
from tokendash.providers.figures import (
    DAY_MS,
    HOUR_MS,
    balance_fall,
    next_month_ms,
    num,
    periods,
    window_sum,
)
from tokendash.providers.keys import key_hint
from tokendash.providers.registry import PROVIDERS
from tokendash.providers.runner import all_keys, enabled

STALE_GRACE_MS = 5 * 60_000
COST_ENDPOINTS = {"openai": {"costs"}, "anthropic": {"cost_report"}, "openrouter": {"key", "activity"}}
# Provider names local logs use for the same billing account.
ALIASES = {"kimi": "moonshot", "moonshotai": "moonshot", "kimi-coding": "moonshot", "deepseek-ai": "deepseek"}
LOCAL_NAMES = {"google": "Google", "xai": "xAI", "ollama": "Ollama", "mistral": "Mistral", "groq": "Groq"}


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _now(now_ms: int | None) -> int:
    import time

    return now_ms if now_ms is not None else int(time.time() * 1000)


# -- local attribution ---------------------------------------------------------------------------------


@dataclass
class LocalSpend:
    """Local estimates per window name → provider (subscription sources left out, SPEC §5 rule 7)."""

    cost: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    tokens: dict[str, dict[str, dict[str, int]]] = field(default_factory=lambda: defaultdict(dict))

    def providers(self) -> set[str]:
        return {p for w in self.cost.values() for p in w} | {p for w in self.tokens.values() for p in w}


def local_spend(app: Any, now_ms: int) -> LocalSpend:
    from tokendash.accounting.aggregate import UsageQuery, usage

    windows = {"h24": (now_ms - 24 * HOUR_MS, now_ms + 1), "d7": (now_ms - 7 * DAY_MS, now_ms + 1), **periods(now_ms)}
    sub = app.subscription_sources()
    out = LocalSpend()
    with app.reader() as conn:
        for name, (a, b) in windows.items():
            res = usage(conn, UsageQuery(timezone="UTC", group_by=["provider", "source"], start_ms=a, end_ms=b))
            for r in res["rows"]:
                if r["source"] in sub:
                    continue
                pid = ALIASES.get(r["provider"], r["provider"])
                out.cost[name][pid] = out.cost[name].get(pid, 0.0) + r["costUsd"]
                t = out.tokens[name].setdefault(pid, {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0})
                for k in t:
                    t[k] += r["tokens"][k]
    return out


# -- one provider ----------------------------------------------------------------------------------------


@dataclass
class View:
    id: str
    name: str
    kind: str  # api | local
    d: ProviderDef | None
    keys: dict[str, str]
    state: Any
    buckets: list[Any]
    history: list[Any]
    capabilities: list[str]
    now_ms: int
    stale_after_ms: int
    fx: dict[str, float] = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        return self.d is not None and self.d.configured(self.keys)

    @property
    def fresh(self) -> bool:
        st = self.state
        return bool(
            st and st.last_success_ms and st.last_success_ms >= (st.last_poll_ms or 0)
            and self.now_ms - st.last_success_ms <= self.stale_after_ms
        )

    @property
    def stale(self) -> bool:
        return self.configured and not (self.fresh and self.state.error is None)

    @property
    def reachable(self) -> bool:
        # ✅ only when the last poll fetched every endpoint: a partial answer is not reachable.
        st = self.state
        return bool(st and st.error is None and st.last_success_ms and st.last_success_ms == st.last_poll_ms)

    @property
    def billing_fresh(self) -> bool:
        if "cost" not in self.capabilities or not self.fresh:
            return False
        want = COST_ENDPOINTS.get(self.id, set())
        eps = [e for e in self.state.endpoints if e.get("endpoint") in want]
        return bool(eps) and all(e.get("ok") for e in eps)

    @property
    def has_billed(self) -> bool:
        return "cost" in self.capabilities and bool(self.state and self.state.last_success_ms)

    def cost_rows(self) -> list[Any]:
        return [b for b in self.buckets if b.cost_nano is not None]

    def usage_rows(self) -> list[Any]:
        return [b for b in self.buckets if b.cost_nano is None or b.input or b.output or b.cache_read or b.cache_write]

    def latest(self) -> list[Any]:
        newest: dict[tuple[str, str], Any] = {}
        for r in self.history:
            newest[(r.kind, r.key)] = r
        return list(newest.values())

    def by_key(self, kind: str) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = defaultdict(list)
        for r in self.history:
            if r.kind == kind:
                out[r.key].append(r)
        return out


def views(app: Any, now_ms: int | None = None, include_local: bool = False) -> tuple[list[View], LocalSpend]:
    from tokendash.store import providers as pstore

    now_ms = _now(now_ms)
    s = app.settings
    keys = all_keys(s)
    engine = app.store.engine
    states = pstore.states(engine)
    since = min(now_ms - 40 * DAY_MS, periods(now_ms)["month"][0])
    stale_after = int(2 * s.poll_interval_minutes * 60_000) + STALE_GRACE_MS
    out = []
    for d in enabled(s):
        out.append(View(
            d.id, d.name, "api", d, keys[d.id], states.get(d.id), pstore.buckets(engine, d.id, since),
            pstore.balances(engine, d.id, since), d.capabilities(keys[d.id]), now_ms, stale_after, s.fx,
        ))
    local = local_spend(app, now_ms)
    if include_local:
        from tokendash.accounting.summary import provider_name

        known = set(PROVIDERS)
        for pid in sorted(local.providers() - known):
            if s.enabled_providers is not None and pid not in s.enabled_providers:
                continue
            name = LOCAL_NAMES.get(pid) or provider_name(pid)
            out.append(View(pid, name, "local", None, {}, None, [], [], [], now_ms, stale_after))
    return out, local


def _usd(v: View, kind: str = "balance") -> tuple[Decimal | None, list[dict[str, Any]]]:
    """Total USD of the newest readings of a kind (None unless every one converts) and the list."""
    rows = [r for r in v.latest() if r.kind == kind]
    items = [
        {
            "kind": r.kind, "key": r.key, "currency": r.currency,
            "amount": num(Decimal(r.amount_nano) / Decimal(10**9)) if r.amount_nano is not None else None,
            "amountUsd": num(Decimal(r.amount_nusd) / Decimal(10**9)) if r.amount_nusd is not None else None,
            "asOf": iso(r.ts_ms),
        }
        for r in rows
    ]
    if not rows or any(r.amount_nusd is None for r in rows):
        return None, items
    return sum((Decimal(r.amount_nusd) for r in rows), Decimal(0)) / Decimal(10**9), items


def _spend(v: View, local: LocalSpend, period: str) -> tuple[float | None, float, str]:
    """(billed, estimated, basis) of a period."""
    a, b = periods(v.now_ms)[period]
    billed = window_sum(v.cost_rows(), a, b, v.now_ms, cost=True).usd if v.has_billed else None
    est = local.cost[period].get(v.id, 0.0)
    return billed, est, ("billed" if v.billing_fresh else "estimated")



def _tokens(t: dict[str, float]) -> float:
    return t["input"] + t["output"] + t["cache_read"] + t["cache_write"]


def burn_rate(v: View, local: LocalSpend) -> dict[str, Any]:
    """``BurnRate`` of one provider (SPEC §6), with the ``basis`` it was computed on: ``billed``
    (reported cost), ``balance`` (the fall of the balance between readings, for balance-only
    providers) or ``estimated`` (local logs)."""
    now = v.now_ms
    h24, d7 = (now - 24 * HOUR_MS, now), (now - 7 * DAY_MS, now)
    falls = {k: balance_fall(rows, d7[0], now, v.fx) for k, rows in v.by_key("balance").items()}
    if v.billing_fresh:
        basis = "billed"
    elif falls and all(f is not None and f.span_ms >= HOUR_MS for f in falls.values()):
        basis = "balance"
    else:
        basis = "estimated"
    usage = v.usage_rows()
    if basis == "billed" and usage:
        tokens24 = _tokens(window_sum(usage, *h24, now, cost=False).tokens or {})
        tokens7 = _tokens(window_sum(usage, *d7, now, cost=False).tokens or {})
    else:
        tokens24 = local.tokens["h24"].get(v.id, {}).get("total", 0)
        tokens7 = local.tokens["d7"].get(v.id, {}).get("total", 0)

    balance_usd, _ = _usd(v)
    runway: float | None = None
    native: dict[str, Any] | None = None
    cost_per_day: float | None
    cost_per_hour: float | None
    if basis == "balance":
        per_day = {k: f.per_day() for k, f in falls.items() if f is not None}
        usd = [p[1] for p in per_day.values() if p is not None]
        cost_per_day = float(sum(usd)) if usd and all(x is not None for x in usd) else None  # type: ignore[arg-type]
        cost_per_hour = cost_per_day / 24 if cost_per_day is not None else None
        latest = {r.key: r for r in v.latest() if r.kind == "balance"}
        runways = []
        for k, p in per_day.items():
            r = latest.get(k)
            if p is None or r is None or r.amount_nano is None or p[0] <= 0:
                continue
            runways.append(float(Decimal(r.amount_nano) / Decimal(10**9) / p[0]))
            native = native or {"amount": num(p[0]), "currency": r.currency}
        if balance_usd is not None and cost_per_day:
            runway = float(balance_usd) / cost_per_day
        elif runways:
            runway = min(runways)  # no rate for a currency: the first balance to run dry decides
    else:
        if basis == "billed":
            cost24 = window_sum(v.cost_rows(), *h24, now, cost=True).usd
            cost7 = window_sum(v.cost_rows(), *d7, now, cost=True).usd
        else:
            cost24 = local.cost["h24"].get(v.id, 0.0)
            cost7 = local.cost["d7"].get(v.id, 0.0)
        cost_per_day, cost_per_hour = cost7 / 7, cost24 / 24
        left = balance_usd
        if left is None:  # a key limit is what that key may still spend: its runway is real too
            left, _ = _usd(v, "key_remaining")
        if left is not None and cost_per_day > 0:
            runway = float(left) / cost_per_day
    mtd_billed, mtd_est, spend_basis = _spend(v, local, "month")
    mtd = mtd_billed if spend_basis == "billed" and mtd_billed is not None else mtd_est
    days_left = (next_month_ms(now) - now) / DAY_MS
    out: dict[str, Any] = {
        "providerId": v.id,
        "tokensPerHour": num(tokens24 / 24, 3),
        "tokensPerDay": num(tokens7 / 7, 3),
        "costPerHour": num(cost_per_hour),
        "costPerDay": num(cost_per_day),
        "runwayHours": num(runway * 24, 3) if runway is not None else None,
        "runwayDays": num(runway, 3) if runway is not None else None,
        "monthToDateUsd": num(mtd),
        "projectedMonthEndUsd": num(mtd + cost_per_day * days_left) if cost_per_day is not None else None,
        "basis": basis,
        "stale": v.stale,
    }
    if native is not None:
        out["costPerDayNative"] = native
    return out


def _error(v: View) -> str | None:
    if v.state is None:
        return None
    problems = [r for r in v.latest() if r.amount_nano is None and r.kind == "balance"]
    err = v.state.error
    if problems and not err:
        err = f"{v.id}: the balance is not a finite number"
    return err


def current_usage(v: View, local: LocalSpend) -> dict[str, Any]:
    """Month to date (SPEC §8 ``currentUsage``): spend on the provider's basis, both figures, balances
    in their own currency with USD beside them, the credit or spend limit."""
    billed, est, basis = _spend(v, local, "month")
    a, b = periods(v.now_ms)["month"]
    usage = v.usage_rows()
    if basis == "billed" and usage:
        t = window_sum(usage, a, b, v.now_ms, cost=False).tokens or {}
        tok = {"input": t["input"], "output": t["output"], "cacheRead": t["cache_read"], "cacheWrite": t["cache_write"]}
    else:
        lt = local.tokens["month"].get(v.id, {})
        tok = {k: lt.get(k, 0) for k in ("input", "output", "cacheRead", "cacheWrite")}
    balance_usd, items = _usd(v)
    primary = next((i for i in items if i["currency"] == "USD"), items[0] if items else None)
    limits = [r for r in v.latest() if r.kind in ("spend_limit", "key_remaining")]
    limit_usd = None
    for r in limits:
        if r.limit_nano is not None and r.currency == "USD":
            limit_usd = num(Decimal(r.limit_nano) / Decimal(10**9))
    _, remaining = _usd(v, "key_remaining")
    return {
        "inputTokens": int(tok["input"]),
        "outputTokens": int(tok["output"]),
        "cacheReadTokens": int(tok["cacheRead"]),
        "cacheWriteTokens": int(tok["cacheWrite"]),
        "costUsd": num(billed if basis == "billed" and billed is not None else est),
        "billedCostUsd": num(billed),
        "estimatedCostUsd": num(est),
        "costSource": basis,
        "balanceUsd": num(balance_usd),
        "balance": {"amount": primary["amount"], "currency": primary["currency"]} if primary else None,
        "balances": items,
        "creditLimitUsd": limit_usd,
        "limitRemainingUsd": remaining[0]["amountUsd"] if remaining else None,
    }


def status_entry(v: View, local: LocalSpend) -> dict[str, Any]:
    st = v.state
    if v.kind == "local":  # seen in local logs only: read from them (so ✅), estimates, no API behind it
        return {
            "providerId": v.id, "name": v.name, "isConfigured": True, "isReachable": True, "lastChecked": None,
            "error": None, "stale": False, "kind": "local", "currentUsage": current_usage(v, local),
            "burnRate": burn_rate(v, local),
        }
    entry: dict[str, Any] = {
        "providerId": v.id, "name": v.name, "isConfigured": v.configured, "isReachable": v.configured and v.reachable,
        "lastChecked": iso(st.last_poll_ms) if st else None, "error": _error(v) if v.configured else None,
        "stale": v.stale, "kind": "api",
    }
    if not v.configured and v.id not in local.providers():
        entry.update(currentUsage=None, burnRate=None)
        return entry
    entry.update(currentUsage=current_usage(v, local), burnRate=burn_rate(v, local))
    return entry


# -- the API -------------------------------------------------------------------------------------------


def provider_infos(app: Any, now_ms: int | None = None) -> list[dict[str, Any]]:
    """``ProviderInfo`` (SPEC §8) for every enabled API provider, configured or not."""
    vs, _ = views(app, now_ms)
    out = []
    for v in vs:
        st = v.state
        hint_key = next((v.keys[r] for r in (v.d.required if v.d else ()) if r in v.keys), None)
        out.append({
            "id": v.id, "name": v.name, "kind": "api", "isConfigured": v.configured,
            "isReachable": v.configured and v.reachable, "capabilities": v.capabilities if v.configured else [],
            "keyHint": key_hint(hint_key), "lastChecked": iso(st.last_poll_ms) if st else None,
            "lastSuccess": iso(st.last_success_ms) if st else None, "error": _error(v) if v.configured else None,
            "stale": v.stale, "endpoints": st.endpoints if st and v.configured else [],
        })
    return out


def provider_statuses(app: Any, now_ms: int | None = None, include_local: bool = True) -> list[dict[str, Any]]:
    """The ``providers`` entries of ``DashboardSummary``: every enabled API provider, then (with
    ``include_local``) providers seen only in local logs, with estimates."""
    vs, local = views(app, now_ms, include_local)
    return [status_entry(v, local) for v in vs]


def total_burn(rates: list[dict[str, Any]], balances: dict[str, float | None]) -> dict[str, Any]:
    """Sum of the providers' burn. ``totalBalanceUsd`` adds every balance known in USD; the runway is
    the balances of the providers that are being spent over what they spend a day (money held at a
    provider nobody uses does not pay for another's usage)."""
    def total(k: str) -> float:
        return sum(r[k] or 0.0 for r in rates)

    known = [v for v in balances.values() if v is not None]
    held = [r for r in rates if balances.get(r["providerId"]) is not None and (r["costPerDay"] or 0) > 0]
    spent_from = sum(balances[r["providerId"]] or 0.0 for r in held)
    per_day = sum(r["costPerDay"] for r in held)
    runway = spent_from / per_day if held and per_day > 0 else None
    return {
        "providerId": "total",
        "tokensPerHour": num(total("tokensPerHour"), 3),
        "tokensPerDay": num(total("tokensPerDay"), 3),
        "costPerHour": num(total("costPerHour")),
        "costPerDay": num(total("costPerDay")),
        "runwayHours": num(runway * 24, 3) if runway is not None else None,
        "runwayDays": num(runway, 3) if runway is not None else None,
        "monthToDateUsd": num(total("monthToDateUsd")),
        "projectedMonthEndUsd": num(total("projectedMonthEndUsd")),
        "totalBalanceUsd": num(sum(known)) if known else None,
    }


def burn(app: Any, now_ms: int | None = None) -> dict[str, Any]:
    """``{total: BurnRate, providers: [BurnRate]}`` over every configured API provider and every
    provider seen in local logs."""
    vs, local = views(app, now_ms, include_local=True)
    rates, balances = [], {}
    for v in vs:
        if v.kind == "api" and not v.configured and v.id not in local.providers():
            continue  # nothing known about it: no key and no local usage
        rates.append(burn_rate(v, local))
        usd, _ = _usd(v)
        balances[v.id] = float(usd) if usd is not None else None
    return {"total": total_burn(rates, balances), "providers": rates}


def reconcile(app: Any, now_ms: int | None = None) -> dict[str, Any]:
    """Billed vs attributed per provider and period (SPEC §5 rule 6): both figures, the gap, and which
    one is the provider's spend. Never summed."""
    vs, local = views(app, now_ms)
    out = []
    for v in vs:
        if not v.configured:
            continue
        per: dict[str, Any] = {}
        for name, (a, b) in periods(v.now_ms).items():
            billed, est, basis = _spend(v, local, name)
            gap = billed - est if billed is not None else None
            per[name] = {
                "start": iso(a), "end": iso(b),
                "billedUsd": num(billed), "estimatedUsd": num(est),
                "differenceUsd": num(gap),
                "differencePercent": num(gap / est * 100, 3) if gap is not None and est else None,
                "spendUsd": num(billed if basis == "billed" and billed is not None else est),
                "spendBasis": basis,
            }
        out.append({"providerId": v.id, "name": v.name, "billingFresh": v.billing_fresh, "stale": v.stale, "periods": per})
    return {"providers": out}
