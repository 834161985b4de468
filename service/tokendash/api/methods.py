"""The methods table (SPEC §8): name → handler, shared by JSON-RPC, gRPC and the in-process CLI.

A handler takes ``(ctx, params)`` and returns the result as a JSON-ready dict in proto JSON shape (or an
``Encoded`` result the sidecar already holds in memory). ``ctx`` is a ``Context``: the running sidecar
(``tokendash.server.runtime``: cache, scheduler) or the in-process one (``tokendash.api.context``). A
handler knows nothing about transports; errors are ``tokendash.errors`` exceptions, translated once at
each edge.

Methods whose data comes from later work answer their true current state: ``budgets`` and ``alerts``
are whatever the dashboard summary holds (empty until budgets and alerts land), ``health`` asks
``tokendash.health.collect_health(app)`` when that package is installed, ``providers`` asks
``tokendash.providers.provider_infos(app)`` when it is there and otherwise lists the providers the local
logs show. Provider balances and billed spend enter the dashboard (and so ``burn``) through
``summary()`` below, the one place that builds it; the contract tests hold every result to the proto.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tokendash.api import params as P
from tokendash.errors import InvalidParams

log = logging.getLogger("tokendash.api")


class Context(Protocol):
    app: Any

    def status(self, *, max_age: float, refresh: bool, timeout: float, fmt: str, host: str | None = None) -> Any:
        """``host``: the dashboard of that host only (scope ``host`` on a team store)."""
        ...

    def cached(self, fmt: str) -> Any: ...

    def summary(self) -> dict[str, Any]:
        """The current dashboard (from memory in the sidecar)."""
        ...

    def refresh(self, sources: list[str] | None, timeout: float, wait_dashboard: bool = True) -> list[dict[str, Any]]: ...

    def source_ids(self) -> list[str]: ...

    def changed(self) -> None:
        """The store changed outside the scheduler (a record): the dashboard must be rebuilt."""
        ...

    def invalidate(self) -> None:
        """Ask for a rebuild without waiting for it (safe on the event loop)."""
        ...


Handler = Callable[[Context, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Method:
    name: str
    rpc: str  # the gRPC method of TokenDashboardService
    handler: Handler
    scope: str  # "read" or "write" (the plugin maps these to operator.read / operator.write)
    inline: bool = False  # answers from memory: run on the event loop, never in the thread pool


# -- dashboard ----------------------------------------------------------------------------------


def summary(app: Any, now_ms: int | None = None, sources: list[Any] | None = None,
            host: str | None = None) -> dict[str, Any]:
    """Build the ``DashboardSummary`` from the store (the sidecar caches it; the CLI builds it)."""
    from tokendash.accounting.summary import build_summary

    known = [(s.id, s.kind, bool(s.configured())) for s in (app.sources() if sources is None else sources)]
    states = app.store.source_states()
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    with app.store.engine.connect() as conn:
        s = build_summary(
            conn,
            tz_name=app.timezone,
            now_ms=now,
            currency=app.settings.currency,
            source_states=states,
            known_sources=known,
            subscription=app.subscription_sources(),
            host=host,
        )
        s["budgets"] = _budgets(app, conn, now)
    if host is None:  # the provider view is of the whole account; one host's dashboard stays its own usage
        _provider_figures(app, s, now)
        s["alerts"] = _alerts(app, s, now)
    return s


def _alerts(app: Any, s: dict[str, Any], now_ms: int) -> list[dict[str, Any]]:
    """The stored alerts after reconciling them with what holds now (``tokendash.alerts``); each
    transition is queued for the webhooks in the same transaction (``tokendash.outbox``)."""
    from sqlalchemy.exc import OperationalError

    from tokendash.accounting.aggregate import UsageQuery
    from tokendash.accounting.aggregate import usage as run
    from tokendash.accounting.timezones import local_midnight_ms, today, zone
    from tokendash.alerts import conditions, open_alerts, reconcile, stored_alerts

    try:
        tz = zone(app.timezone)
        q = UsageQuery(timezone=app.timezone, group_by=["provider", "source"],
                       start_ms=local_midnight_ms(today(tz, now_ms), tz), end_ms=now_ms + 1)
        sub = app.subscription_sources()
        spent: dict[str, float] = {}
        engine = app.store.engine
        with app.reader() as conn:
            for r in run(conn, q)["rows"]:
                if r["source"] not in sub:
                    spent[r["provider"]] = spent.get(r["provider"], 0.0) + r["costUsd"]
            held = conditions(s, app.settings.alert_thresholds, spent)
            held += _runaway(app, conn, now_ms, open_alerts(engine, "runaway"), sub)
        held += _unchecked_condition(app, now_ms)
        health = app.last_health  # the last reading this process took, if any
        keep: tuple[str, ...] = ("health",)
        if health is not None:
            held += [{k: a[k] for k in ("id", "type", "scope", "severity", "message")} for a in health.get("alerts") or []]
            keep = ()
        for attempt in range(3):  # another writer between our read and write (SQLite): try again
            try:
                reconcile(engine, held, now_ms, app.settings.webhooks, keep_types=keep)
                break
            except OperationalError:
                if attempt == 2:
                    raise
                time.sleep(0.05 * (attempt + 1))
        return stored_alerts(engine)
    except Exception:  # alerts must never cost the dashboard
        log.exception("alerts were not evaluated")
        return list(s.get("alerts") or [])


def _runaway(app: Any, conn: Any, now_ms: int, open_: dict[str, Any], sub: set[str]) -> list[dict[str, Any]]:
    from tokendash.runaway import RunawayDetector

    det = app.runaway_detector
    if det is None or det.cfg is not app.settings.runaway:  # one per App, so its baseline cache is kept
        det = app.runaway_detector = RunawayDetector(app.settings.runaway)
    return [{k: c[k] for k in ("id", "type", "scope", "severity", "message")}
            for c in det.conditions(conn, now_ms, open_, sub)]


def _budgets(app: Any, conn: Any, now_ms: int) -> list[dict[str, Any]]:
    """``[BudgetStatus]`` of the configured budgets, in the display currency their limits are in."""
    settings = app.settings
    if not settings.budgets:
        return []
    from tokendash.accounting.budgets import evaluate_budgets
    from tokendash.errors import ConfigError
    from tokendash.health.fx import Money

    try:
        money = Money.display(settings.currency, settings.fx)
    except ConfigError as e:  # limits in a currency without a rate cannot be compared; doctor says so too
        log.error("budgets not evaluated: %s", e)
        return []
    return evaluate_budgets(conn, settings.budgets, tz_name=app.timezone, now_ms=now_ms, from_usd=money.from_usd,
                            currency=money.currency, subscription=app.subscription_sources())


def _provider_figures(app: Any, s: dict[str, Any], now_ms: int) -> None:
    """With the provider APIs installed (``tokendash.providers``), their view of each provider (billed
    spend next to local estimates, balances, runway) replaces the local-only one, and the totals come
    from their burn. If they fail, the local figures stay (each provider source reports its own error)."""
    statuses = _optional_hook("tokendash.providers", "provider_statuses")
    burn_of_providers = _optional_hook("tokendash.providers", "burn")
    if statuses is None or burn_of_providers is None:
        return
    try:
        providers = statuses(app, now_ms)
        total = burn_of_providers(app, now_ms)["total"]
    except Exception:
        log.exception("provider figures failed; the dashboard shows local estimates only")
        return
    from tokendash.accounting.summary import iso

    for p in providers:  # the original payload's fields, wherever the provider view leaves them out
        if p.get("currentUsage") is not None:
            p["currentUsage"].setdefault("providerId", p["providerId"])
            p["currentUsage"].setdefault("timestamp", iso(now_ms))
        if p.get("burnRate") is not None:
            p["burnRate"].setdefault("providerId", p["providerId"])
    s["providers"] = providers
    s["totalBalanceUsd"] = total.get("totalBalanceUsd")
    s["totalDailyCostUsd"] = total.get("costPerDay") or 0.0
    s["totalRunwayDays"] = total.get("runwayDays")


def status(ctx: Context, params: Mapping[str, Any]) -> Any:
    p = P.as_object(params, {"scope", "maxAgeSeconds", "refresh", "timeoutSeconds", "format"})
    return ctx.status(
        max_age=P.number(p, "maxAgeSeconds", 60.0, 0, 10**9),
        refresh=P.boolean(p, "refresh", False),
        timeout=P.number(p, "timeoutSeconds", 10.0, 0, 300),
        fmt=P.output_format(p),
        host=scope_host(ctx.app, p),
    )


def scope_host(app: Any, p: Mapping[str, Any]) -> str | None:
    """The host a ``scope`` param restricts to, or None for every row. SPEC §8: ``host`` is the default
    on SQLite and ``team`` on PostgreSQL; an unscoped SQLite file is not filtered, because its older rows
    may carry an earlier host id of this same machine (``TOKENDASH_HOST_ID`` changed)."""
    sqlite = app.database_url.startswith("sqlite")
    scope = P.choice(p, "scope", "host" if sqlite else "team", ("host", "team"))
    if scope == "host" and (not sqlite or "scope" in p):
        return host_id(app)
    return None


def cached(ctx: Context, params: Mapping[str, Any]) -> Any:
    return ctx.cached(P.output_format(P.as_object(params, {"format"})))


def burn_of(s: Mapping[str, Any]) -> dict[str, Any]:
    """``{total: BurnRate, providers: [BurnRate]}`` from a dashboard summary."""
    runway = s.get("totalRunwayDays")
    provs = [p for p in s.get("providers") or [] if p.get("burnRate")]
    total = {
        "providerId": "total",
        "tokensPerHour": sum(p["burnRate"]["tokensPerHour"] for p in provs),
        "tokensPerDay": sum(p["burnRate"]["tokensPerDay"] for p in provs),
        "costPerHour": sum(p["burnRate"]["costPerHour"] for p in provs),
        "costPerDay": s.get("totalDailyCostUsd") or 0.0,
        "runwayHours": runway * 24 if runway is not None else None,
        "runwayDays": runway,
    }
    return {"total": total, "providers": [{**p["burnRate"], "providerId": p["providerId"]} for p in provs]}


def burn(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    fmt = P.output_format(P.as_object(params, {"format"}))
    s = ctx.summary()
    hook = _optional_hook("tokendash.providers", "burn")
    # With the provider APIs, their burn is the one the dashboard's totals came from.
    result = hook(ctx.app) if hook is not None else burn_of(s)
    if fmt == "text":
        from tokendash.render.text import render_burn

        result["text"] = render_burn(s)
    return result


def usage(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    from tokendash.accounting.aggregate import UsageQuery
    from tokendash.accounting.aggregate import usage as run

    app = ctx.app
    p = P.as_object(params, {"scope", "since", "until", "timezone", "groupBy", "filters", "limit"})
    host = scope_host(app, p)
    q = UsageQuery.from_params({k: v for k, v in p.items() if k != "scope"}, app.timezone)
    if host is not None and "host" not in q.filters:
        q.filters = {**q.filters, "host": [host]}

    def compute() -> dict[str, Any]:
        with app.reader() as conn:
            return run(conn, q)

    memo = getattr(ctx, "memo", None)  # the sidecar keeps answers until the data changes
    return memo(("usage", repr(q)), compute) if memo is not None else compute()


def host_id(app: Any) -> str:
    if app.settings.host_id:
        return app.settings.host_id
    from tokendash.store.rows import machine_host_id

    return machine_host_id()


# -- providers, budgets, alerts, health -----------------------------------------------------------


def _optional_hook(module: str, attr: str) -> Callable[..., Any] | None:
    """A function of a package that later work adds (``tokendash.health``, ``tokendash.providers``)."""
    try:
        if importlib.util.find_spec(module) is None:
            return None
    except (ImportError, ValueError):
        return None
    return getattr(importlib.import_module(module), attr, None)


def providers(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    fmt = P.output_format(P.as_object(params, {"format"}))
    result = _provider_infos(ctx)
    if fmt == "text":
        from tokendash.render.text import render_providers

        result["text"] = render_providers(result["providers"], ctx.summary().get("sources"))
    return result


def _provider_infos(ctx: Context) -> dict[str, Any]:
    hook = _optional_hook("tokendash.providers", "provider_infos")
    if hook is not None:
        return {"providers": hook(ctx.app)}
    # Until provider APIs land: the providers the local logs show, as seen through their sources.
    from tokendash.accounting.summary import provider_name

    s = ctx.summary()
    last = max((x["lastSuccess"] for x in s.get("sources") or [] if x.get("lastSuccess")), default=None)
    return {
        "providers": [
            {
                "id": r["provider"],
                "name": provider_name(r["provider"]),
                "kind": "local",
                "isConfigured": True,
                "isReachable": True,
                "capabilities": ["usage", "cost"],
                "keyHint": None,
                "lastChecked": last,
                "lastSuccess": last,
                "error": None,
            }
            for r in s.get("byProvider") or []
            if r.get("provider")
        ]
    }


def budgets(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    fmt = P.output_format(P.as_object(params, {"format"}))
    result: dict[str, Any] = {"budgets": list(ctx.summary().get("budgets") or [])}
    if fmt == "text":
        from tokendash.render.text import render_budgets

        result["text"] = render_budgets(result["budgets"])
    return result


STATE_RANK = {"ok": 0, "warning": 1, "critical": 2, "exceeded": 3}


def budget_check(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    """From memory: the worst state of the budgets that cover this agent / provider."""
    p = P.as_object(params, {"agentId", "provider", "model", "uncheckedRuns", "uncheckedSince"})
    agent = P.string(p, "agentId")
    provider = P.string(p, "provider")
    P.string(p, "model")
    missed = P.integer(p, "uncheckedRuns", 0, 0, 1_000_000) or 0
    if missed:
        _note_unchecked(ctx, missed, P.string(p, "uncheckedSince"))
    hit = []
    for b in ctx.summary().get("budgets") or []:
        scope = b.get("scope") or {}
        if scope.get("agent") not in (None, agent) or scope.get("provider") not in (None, provider):
            continue
        hit.append(b)
    worst = max(hit, key=lambda b: STATE_RANK.get(b.get("state", "ok"), 0), default=None)
    state = worst.get("state", "ok") if worst else "ok"
    block = state == "exceeded" and ctx.app.settings.enforcement.mode == "block"
    out: dict[str, Any] = {"allow": not block, "state": state, "budgetIds": [b["id"] for b in hit]}
    if worst is not None and state != "ok":
        out["reason"] = _budget_reason(worst)
    return out


UNCHECKED_ALERT_HOURS = 24  # how long the alert stays open after the last run that went through unchecked


def _note_unchecked(ctx: Context, count: int, since: str | None) -> None:
    """Runs a budget gate let through while this sidecar did not answer: kept in memory and turned into
    an ``error:enforcement`` alert by the next dashboard build (which this asks for)."""
    now = int(time.time() * 1000)
    prev = ctx.app.unchecked_runs or {"count": 0, "since": since or "", "last": now}
    first = min((x for x in (prev["since"], since) if x), default="")
    ctx.app.unchecked_runs = {"count": prev["count"] + count, "since": first, "last": now}
    ctx.invalidate()  # budget.check answers on the event loop: ask for the rebuild, never wait for it


def _unchecked_condition(app: Any, now_ms: int) -> list[dict[str, Any]]:
    u = app.unchecked_runs
    if not u or now_ms - u["last"] > UNCHECKED_ALERT_HOURS * 3_600_000:
        return []
    since = f" since {u['since']}" if u["since"] else ""
    return [{"id": "error:enforcement", "type": "error", "scope": "enforcement", "severity": "warning",
             "message": f"{u['count']} agent run(s) went through without a budget check{since}: the sidecar did not "
                        "answer the plugin's budget gate in time"}]


def _budget_reason(b: Mapping[str, Any]) -> str:
    """Names the budget, where it stands and when it resets (the next period's first local day)."""
    from datetime import date, timedelta

    text = (f"budget {b['id']} ({b.get('period', '')}) is {b.get('state')}: {b.get('spent', 0):.2f} of "
            f"{b.get('limit', 0):.2f} {b.get('currency', '')} ({b.get('percent', 0):.0f} %)")
    end = b.get("periodEnd")
    if end:
        text += f"; it resets on {(date.fromisoformat(end) + timedelta(days=1)).isoformat()}"
    return text


def alerts(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    p = P.as_object(params, {"state", "limit", "format"})
    state = P.choice(p, "state", "open", ("open", "all"))
    limit = P.integer(p, "limit", 100, 1, 10_000) or 100
    fmt = P.output_format(p)
    found = [a for a in ctx.summary().get("alerts") or [] if state == "all" or a.get("state", "open") == "open"]
    result: dict[str, Any] = {"alerts": found[:limit]}
    if fmt == "text":
        from tokendash.render.text import render_alerts

        result["text"] = render_alerts(result["alerts"], state == "all")
    return result


def health(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    fmt = P.output_format(P.as_object(params, {"format"}))
    result = _health(ctx)
    if fmt == "text":
        from tokendash.health.text import render_health

        result = {**result, "text": result["error"] if result["status"] == "UNKNOWN" else render_health(result)}
    return result


def _health(ctx: Context) -> dict[str, Any]:
    hook = _optional_hook("tokendash.health", "collect_health")
    if hook is not None:
        result = hook(ctx.app)
        # The alert engine takes its ``health`` alerts from the last reading (it never probes itself).
        ctx.app.last_health = result
        return result
    from tokendash.accounting.summary import iso

    return {
        "timestamp": iso(int(time.time() * 1000)),
        "status": "UNKNOWN",
        "disks": [],
        "services": [],
        "recommendations": [],
        "alerts": [],
        "error": "host health is not collected by this build",
    }


# -- writes ---------------------------------------------------------------------------------------


def record(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    from tokendash.api.records import to_events

    p = P.as_object(params, {"events"})
    events = to_events(p.get("events"))
    if not events:
        return {"accepted": 0, "duplicates": 0}
    app = ctx.app
    accepted = app.store.write_batch("record", [(e, app.prices.price(e)) for e in events])
    app.store.set_source_state("record", ok=True)
    ctx.changed()
    return {"accepted": accepted, "duplicates": len(events) - accepted}


def refresh(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    p = P.as_object(params, {"sources", "timeoutSeconds", "waitForDashboard"})
    wanted = P.string_list(p, "sources")
    timeout = P.number(p, "timeoutSeconds", 30.0, 0, 600)
    wait_dashboard = P.boolean(p, "waitForDashboard", True)
    if wanted is not None:
        known = set(ctx.source_ids())
        for i, sid in enumerate(wanted):
            if sid not in known:
                raise InvalidParams(f"sources[{i}]", f"unknown source {sid!r}; use {', '.join(sorted(known))}")
    return {"results": ctx.refresh(wanted, timeout, wait_dashboard)}


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("token-dashboard.status", "Status", status, "read"),
        Method("token-dashboard.cached", "Cached", cached, "read", inline=True),
        Method("token-dashboard.providers", "Providers", providers, "read"),
        Method("token-dashboard.burn", "Burn", burn, "read"),
        Method("token-dashboard.usage", "Usage", usage, "read"),
        Method("token-dashboard.budgets", "Budgets", budgets, "read"),
        Method("token-dashboard.budget.check", "BudgetCheck", budget_check, "read", inline=True),
        Method("token-dashboard.alerts", "Alerts", alerts, "read"),
        Method("token-dashboard.health", "Health", health, "read"),
        Method("token-dashboard.record", "Record", record, "write"),
        Method("token-dashboard.refresh", "Refresh", refresh, "write"),
    )
}
BY_RPC: dict[str, Method] = {m.rpc: m for m in METHODS.values()}
