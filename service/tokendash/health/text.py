"""Text layouts for ``tokendash health`` and ``tokendash server-status`` (the oc-server-status layout:
80-column sections, a status light, readings, services, token telemetry, budget, recommendations).

They take the method results (``SystemHealth``, ``ServerStatusReport``) and nothing else. Fixed against
the prior art: the title is plain ASCII "OPENCLAW", the core count and the budget are real values,
sizes are binary (GiB) and say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

WIDTH = 80
RULE = "=" * WIDTH
THIN = "─" * WIDTH
LIGHT = {"HEALTHY": "🟢", "CAUTION": "🟠", "CRITICAL": "🔴"}
ICON = {"critical": "🚨", "warning": "⚠️ ", "info": "ℹ️ ", "ok": "✅"}
SYMBOL = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "JPY": "¥"}
SERVICE = {"ollama": "Ollama", "chromadb": "ChromaDB", "gateway": "Gateway"}
GIB = 1024**3
MIB = 1024**2
TOP_MODELS = 10


def money(v: float, currency: str, width: int = 0) -> str:
    sym = SYMBOL.get(currency, f"{currency} ")
    sign = "-" if v < 0 and round(v, 2) != 0 else ""
    return f"{sym}{sign}{abs(v):{width},.2f}"


def gib(n: float, width: int = 5) -> str:
    return f"{n / GIB:{width}.1f} GiB"


def duration(seconds: float) -> str:
    m = int(seconds // 60)
    d, m = divmod(m, 1440)
    h, m = divmod(m, 60)
    return f"{d}d {h}h {m}m" if d else f"{h}h {m}m"


def _disk(d: Mapping[str, Any]) -> str:
    return (f"Disk:   {d['percent']:5.1f}% ({gib(d['freeBytes'])} free of {gib(d['totalBytes'], 0)}) "
            f"{d['mountpoint']} [{', '.join(d['roles'])}]")


def _service(s: Mapping[str, Any], verbose: bool) -> list[str]:
    name = f"  {SERVICE.get(s['name'], s['name']) + ':':<11}"
    if not s.get("url"):
        return [name + "not configured"]
    if not s.get("ok"):
        if not s.get("configured"):
            return [name + f"not found at {s['url']} ({s.get('error')})"]
        return [name + f"❌ {s.get('error')} ({s['url']})"]
    lines = []
    if s["name"] == "ollama":
        o = s.get("ollama") or {}
        line = f"{o.get('modelCount', 0)} models ({gib(o.get('totalSizeBytes', 0), 0)})"
        if "loadedCount" in o:
            line += f", {o['loadedCount']} loaded ({gib(o['loadedSizeBytes'], 0)})"
        lines.append(name + line)
        if verbose:
            for m in o.get("models") or []:
                extra = " ".join(m[k] for k in ("parameterSize", "quantizationLevel") if m.get(k))
                lines.append(f"    - {m['name']:<32} {gib(m['sizeBytes'])} {extra}".rstrip())
            for m in o.get("loaded") or []:
                vram = f", {gib(m['sizeVramBytes'], 0)} in VRAM" if "sizeVramBytes" in m else ""
                lines.append(f"    * loaded {m['name']}: {gib(m['sizeBytes'], 0)}{vram}")
    elif s["name"] == "chromadb":
        c = s.get("chromadb") or {}
        count = f"{c['collectionCount']} collections" if "collectionCount" in c else "collections unknown"
        lines.append(name + f"{count}, heartbeat ok ({s.get('latencyMs', 0):.0f} ms)")
    else:
        status = (s.get("gateway") or {}).get("status") or "ok"
        lines.append(name + f"{status} ({s.get('latencyMs', 0):.0f} ms)")
    if s.get("warning"):
        lines.append(f"{'':13}⚠️  {s['warning']}")
    return lines


def health_block(h: Mapping[str, Any], verbose: bool = False) -> list[str]:
    lines = [f"{LIGHT.get(h['status'], '⚪')} {h['status']}", THIN]
    ram = h["ram"]
    lines.append(f"RAM:    {ram['percent']:5.1f}% ({gib(ram['usedBytes'])} / {gib(ram['totalBytes'])}, "
                 f"{gib(ram['availableBytes'], 0)} available)")
    cpu = h["cpu"]
    load = f"{cpu['load1']:.2f}" if "load1" in cpu else "n/a"
    if verbose and "load5" in cpu:
        load += f" / {cpu['load5']:.2f} / {cpu['load15']:.2f}"
    lines.append(f"CPU:    {load} load ({cpu['cores']} cores), {cpu['percent']:.1f}% busy")
    sw = h["swap"]
    if sw["totalBytes"]:
        lines.append(f"Swap:   {sw['percent']:5.1f}% ({gib(sw['usedBytes'])} / {gib(sw['totalBytes'])})")
    else:
        lines.append("Swap:   none")
    lines += [_disk(d) for d in h.get("disks") or []]
    temps = h.get("temperatures") or []
    if temps:
        shown = temps if verbose else [max(temps, key=lambda t: t["celsius"])]
        lines += [f"Temp:   {t['celsius']:5.1f}°C ({t['sensor']}/{t['label']})" for t in shown]
    lines.append(f"Uptime: {duration(h['uptimeSeconds'])}")
    sc = h.get("sidecar")
    if sc:
        lines.append(f"Sidecar: {sc['rssBytes'] / MIB:.1f} MiB RSS (pid {sc['pid']})")
    lines += ["", "SERVICES:"]
    for s in h.get("services") or []:
        lines += _service(s, verbose)
    return lines


def recommendation_lines(recs: list[Mapping[str, str]]) -> list[str]:
    return [f"  {ICON.get(r['severity'], '•')} {r['message']}" for r in recs]


def render_health(h: Mapping[str, Any], verbose: bool = False) -> str:
    lines = health_block(h, verbose)
    lines += ["", "RECOMMENDATIONS:", *recommendation_lines(h.get("recommendations") or [])]
    return "\n".join(lines)


def _title(r: Mapping[str, Any]) -> str:
    ts = datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")).astimezone(ZoneInfo(r["timezone"]))
    return f"📊 OPENCLAW SERVER STATUS — {ts:%Y-%m-%d %H:%M} {ts.tzname()}"


def _telemetry(r: Mapping[str, Any], verbose: bool) -> list[str]:
    cur, rate = r["currency"], r["usdPerUnit"]

    def cost(usd: float, width: int = 0) -> str:
        return money(usd / rate, cur, width)

    def row_cost(row: Mapping[str, Any], width: int = 0) -> str:
        # SPEC §5 rule 4: tokens of a model without a price have an unknown cost, never a zero one.
        if row["unpricedTokens"] and row["unpricedTokens"] >= row["tokens"]["total"]:
            return f"{'unpriced':>{width + 2}}" if width else "unpriced"
        mark = "+" if row["unpricedTokens"] else (" " if width else "")
        return cost(row["costUsd"], width) + mark

    tot = r["month"]
    lines = ["📊 TOTAL:", f"  Tokens:    {tot['tokens']['total']:,}", f"  Cost:      {row_cost(tot)}"]
    if r.get("subscriptionCostUsd"):
        lines.append(f"  Subscriptions (API-equivalent, not in cost): {cost(r['subscriptionCostUsd'])}")
    if tot.get("unpricedTokens"):
        lines.append(f"  Unpriced:  {tot['unpricedTokens']:,} tokens (model not in the price data, cost unknown; "
                     "a + marks a cost that leaves them out)")
    lines += ["", "🔌 BY PROVIDER:"]
    provs = [p for p in r["byProvider"] if p["tokens"]["total"] > 0]
    if not provs:
        lines.append("  No usage this month.")
    for p in provs:
        lines.append(f"  {p['provider']:<15} | {row_cost(p, 8)} | {p['tokens']['total']:>13,} tokens")
        if verbose:
            for m in r["byModel"]:
                if m["provider"] == p["provider"]:
                    lines.append(f"      {m['model']:<30} {row_cost(m, 8)} | {m['tokens']['total']:>13,} tokens")
    models = [m for m in r["byModel"] if m["tokens"]["total"] > 0][:TOP_MODELS]
    if models:
        lines += ["", "🏆 TOP MODELS (all providers):"]
        for i, m in enumerate(models, 1):
            lines.append(f"  {i:2d}. {m['provider']:<12}/{m['model']:<30} {row_cost(m)}")
    periods = [(d["date"], d) for d in r.get("recentDays") or []] + [(f"week {w['week']}", w) for w in r.get("recentWeeks") or []]
    if periods:
        lines += ["", "📈 RECENT (days, then weeks from Monday):"]
        for label, row in periods:
            lines.append(f"  {label:<15} | {row_cost(row, 8)} | {row['tokens']['total']:>13,} tokens")
    return lines


def _budget(b: Mapping[str, Any]) -> list[str]:
    cur = b["currency"]
    scope = ", ".join(f"{k} {v}" for k, v in sorted(b["scope"].items())) or "all usage"
    state = {"ok": "✅ Healthy", "warning": "⚠️  High usage", "critical": "🚨 Critical", "exceeded": "🚨 Exceeded"}
    return [
        f"  {b['id']} ({b['period']}, {b['periodStart']} to {b['periodEnd']}, {scope}):",
        f"    Limit:     {money(b['limit'], cur, 10)}",
        f"    Spent:     {money(b['spent'], cur, 10)}  ({b['percent']:.1f}%)",
        f"    Remaining: {money(b['limit'] - b['spent'], cur, 10)}",
        f"    {state.get(b['state'], b['state'])}",
    ]


def render_server_status(r: Mapping[str, Any], verbose: bool = False) -> str:
    lines = [RULE, _title(r), RULE, "", *health_block(r["health"], verbose), ""]
    lines += [RULE, f"💰 TOKEN TELEMETRY — {r['period']}", RULE, "", *_telemetry(r, verbose), ""]
    lines.append("💳 BUDGET:")
    if r.get("budgetNote"):
        lines.append(f"  {r['budgetNote']}")
    for b in r.get("budgets") or []:
        lines += _budget(b)
    lines += [RULE, "⚙️  RECOMMENDATIONS:", *recommendation_lines(r["recommendations"]), RULE]
    return "\n".join(lines)
