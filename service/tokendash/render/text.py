"""The one text rendering of the dashboard (SPEC §8 ``format: "text"``), used by ``/tokens``, ``/burn``,
``openclaw tokens status`` and ``tokendash status``. It takes method results, never the store.

The layout is the original Token Dashboard's (📊 header, total balance, one line per provider with
✅/⚠️/⬜, alerts with 🔴/🟡/ℹ️, last updated), extended with today/week/month spend, burn rate and
runway, top models and agents, and budgets.
"""

from __future__ import annotations

from typing import Any

ALERT_ICON = {"critical": "🔴", "warning": "🟡"}


def money(v: float | None, currency: str = "USD", places: int = 2) -> str:
    if v is None:
        return "n/a"
    sym = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥"}.get(currency, "")
    s = f"{abs(v):,.{places}f}"
    out = f"{sym}{s}" if sym else f"{s} {currency}"
    return f"-{out}" if v < 0 and round(abs(v), places) != 0 else out


def tokens(n: int | float) -> str:
    return f"{int(n):,}"


def _provider_line(p: dict[str, Any]) -> str:
    icon = "✅" if p.get("isReachable") else ("⚠️" if p.get("isConfigured") else "⬜")
    line = f"{icon} **{p['name']}**"
    if not p.get("isConfigured") and p.get("kind") != "local":
        # No billing key: the original line, plus what the local logs say was used (estimates).
        line += " (not configured)"
    elif p.get("error"):
        return line + f" — Error: {p['error']}"
    u = p.get("currentUsage") or {}
    parts = []
    bal = u.get("balance")
    if bal and bal.get("amount") is not None:
        parts.append(f"Balance: {money(bal['amount'], bal.get('currency', 'USD'))}")
    elif u.get("balanceUsd") is not None:
        parts.append(f"Balance: {money(u['balanceUsd'])}")
    tok = (u.get("inputTokens") or 0) + (u.get("outputTokens") or 0) + (u.get("cacheReadTokens") or 0) + (
        u.get("cacheWriteTokens") or 0
    )
    if tok:
        parts.append(f"Tokens: {tokens(tok)}")
    if u.get("costUsd"):
        parts.append(f"Cost: {money(u['costUsd'], places=4)}")
    b = p.get("burnRate") or {}
    if b.get("costPerDay"):
        parts.append(f"Burn: {money(b['costPerDay'])}/day")
    if b.get("runwayDays") is not None:
        parts.append(f"Runway: {b['runwayDays']:.1f} days")
    return line + (f" — {' | '.join(parts)}" if parts else "")


def _alerts(s: dict[str, Any]) -> list[str]:
    alerts = [a for a in s.get("alerts") or [] if a.get("state", "open") == "open"]
    if not alerts:
        return []
    return ["", "⚠️ **Alerts:**"] + [f"{ALERT_ICON.get(a.get('severity'), 'ℹ️')} {a['message']}" for a in alerts]


def render_summary(s: dict[str, Any]) -> str:
    cur = s.get("currency", "USD")
    lines = ["📊 **Token Dashboard**", ""]
    if s.get("totalBalanceUsd") is not None:
        lines += [f"💰 **Total Balance:** {money(s['totalBalanceUsd'])}", ""]
    periods = s.get("periods") or {}
    if periods:
        spend = " | ".join(
            f"{label}: {money(periods[k]['costUsd'], cur)}"
            for k, label in (("today", "Today"), ("week", "Week"), ("month", "Month"))
            if k in periods
        )
        lines += [f"💸 **Spend:** {spend}"]
        burn = s.get("totalDailyCostUsd")
        runway = s.get("totalRunwayDays")
        bl = f"🔥 **Burn:** {money(burn, cur)}/day" if burn is not None else ""
        if runway is not None:
            bl += f" | Runway: {runway:.1f} days"
        if bl:
            lines.append(bl)
        lines.append("")
    lines.append("**Providers:**")
    provs = s.get("providers") or []
    if not provs:
        if any(src.get("ok") for src in s.get("sources") or []):
            lines.append("⬜ No usage this month yet. Earlier months: `tokendash report monthly`.")
        else:
            lines.append("⬜ No usage or providers found yet. Run `tokendash ingest` or configure a provider key.")
    lines += [_provider_line(p) for p in provs]
    top_models = (s.get("byModel") or [])[:5]
    if top_models:
        lines += ["", "**Top models (month):**"]
        lines += [f"• {r['model']} — {tokens(r['tokens']['total'])} tokens | {money(r['costUsd'], cur)}" for r in top_models]
    top_agents = [r for r in (s.get("byAgent") or []) if r.get("agent")][:5]
    if top_agents:
        lines += ["", "**Top agents (month):**"]
        lines += [f"• {r['agent']} — {tokens(r['tokens']['total'])} tokens | {money(r['costUsd'], cur)}" for r in top_agents]
    budgets = s.get("budgets") or []
    if budgets:
        lines += ["", "**Budgets:**"]
        for b in budgets:
            lines.append(
                f"• {b['id']} ({b['period']}): {money(b['spent'], cur)} of {money(b['limit'], cur)} "
                f"({b['percent']:.0f} %) — {b['state']}"
            )
    lines += _alerts(s)
    bad = [x for x in s.get("sources") or [] if x.get("configured") and x.get("error")]
    if bad:
        lines += ["", "**Source errors:**"] + [f"⚠️ {x['id']}: {x['error']}" for x in bad]
    behind = [x["id"] for x in s.get("sources") or [] if x.get("stale")]
    if behind:  # status answered at its timeout: these parts are not refreshed yet
        lines += ["", f"⏳ Still refreshing: {', '.join(behind)} (their figures may be behind)"]
    lines += ["", f"_Last updated: {s.get('timestamp')}_" + (" (stale)" if s.get("stale") else "")]
    return "\n".join(lines)


def render_burn(s: dict[str, Any]) -> str:
    cur = s.get("currency", "USD")
    provs = s.get("providers") or []
    if not provs:
        return "⬜ No providers configured. Set API keys in your OpenClaw config."
    lines = ["🔥 **Burn Rate Summary**", ""]
    if s.get("totalBalanceUsd") is not None:
        lines.append(f"💰 Total Balance: **{money(s['totalBalanceUsd'])}**")
    lines.append(f"💸 Total: **{money(s.get('totalDailyCostUsd') or 0, cur)}/day**")
    if s.get("totalRunwayDays") is not None:
        lines.append(f"⏳ Runway: **{s['totalRunwayDays']:.1f} days**")
    lines.append("")
    for p in provs:
        b = p.get("burnRate") or {}
        part = f"• {p['name']}: {money(b.get('costPerHour') or 0, cur, 4)}/h | {money(b.get('costPerDay') or 0, cur)}/day"
        if b.get("runwayDays") is not None:
            part += f" | runway {b['runwayDays']:.1f} days"
        lines.append(part)
    crit = [a for a in s.get("alerts") or [] if a.get("severity") == "critical" and a.get("state", "open") == "open"]
    if crit:
        lines += ["", f"🚨 {len(crit)} critical alert(s)!"]
    lines += _alerts(s)
    return "\n".join(lines)


def _provider_info_line(p: dict[str, Any]) -> str:
    icon = "✅" if p["isReachable"] else ("⚠️" if p["isConfigured"] else "⬜")
    line = f"{icon} {p['name']} ({p['id']})"
    if not p["isConfigured"]:
        return line + " (not configured)"
    parts = [", ".join(p.get("capabilities") or []) or "no data"]
    if p.get("keyHint"):
        parts.append(f"key {p['keyHint']}")
    if p.get("lastSuccess"):
        parts.append(f"last success {p['lastSuccess']}")
    if p.get("stale"):
        parts.append("stale")
    line += " — " + " · ".join(parts)
    if p.get("error"):
        line += f"\n    Error: {p['error']}"
    return line


def _source_line(x: dict[str, Any]) -> str:
    if not x.get("configured"):
        return f"⬜ {x['id']} ({x['kind']}) — nothing to read"
    icon = "⚠️" if x.get("error") else ("✅" if x.get("ok") else "⏳")
    parts = [f"{tokens(x.get('items') or 0)} events" if x["kind"] == "local" else f"{tokens(x.get('items') or 0)} items"]
    if x.get("lastSuccess"):
        parts.append(f"last success {x['lastSuccess']}")
    line = f"{icon} {x['id']} ({x['kind']}) — " + " · ".join(parts)
    if x.get("error"):
        line += f"\n    Error: {x['error']}"
    return line


def render_providers(providers: list[dict[str, Any]], sources: list[dict[str, Any]] | None = None) -> str:
    """``token-dashboard.providers`` as text: the provider APIs, then every source with its freshness."""
    lines = ["**Providers:**"] + [_provider_info_line(p) for p in providers]
    if sources:
        lines += ["", "**Sources:**"] + [_source_line(x) for x in sources]
    return "\n".join(lines)


BUDGET_MARK = {"ok": "✅", "warning": "🟡", "critical": "🔴", "exceeded": "⛔"}


def render_budgets(budgets: list[dict[str, Any]]) -> str:
    if not budgets:
        return "No budgets configured: add [[budgets]] to config.toml (see README, Configuration)."
    lines = []
    for b in budgets:
        scope = ", ".join(f"{k} {v}" for k, v in (b.get("scope") or {}).items()) or "everything"
        cur = b.get("currency", "")
        lines.append(
            f"{BUDGET_MARK.get(b['state'], '•')} {b['id']} ({b['period']}, {scope}): {b['spent']:,.2f} of "
            f"{b['limit']:,.2f} {cur} = {b['percent']:.0f} %, {b['state']}; at this pace "
            f"{b.get('projected', 0):,.2f} {cur} by {b.get('periodEnd')}"
        )
    return "\n".join(lines)


def render_alerts(alerts: list[dict[str, Any]], all_states: bool = False) -> str:
    if not alerts:
        return "No alerts." if all_states else "No open alerts."
    lines = []
    for a in alerts:
        when = f"since {a.get('firstSeen')}" if a["state"] == "open" else f"resolved {a.get('timestamp')}"
        lines.append(f"{ALERT_ICON.get(a['severity'], 'ℹ️')} [{a['type']}] {a['message']} ({when})")
    return "\n".join(lines)
