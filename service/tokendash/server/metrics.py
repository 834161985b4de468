"""``GET /metrics``: Prometheus text exposition (SPEC §12) of what the store and the dashboard hold.

    tokendash_tokens_total{provider,model,source,agent,type}    counter, all time
    tokendash_cost_usd_total{provider,model,source,agent}       counter, all time (attributed cost)
    tokendash_balance{provider,currency}                       gauge, newest balance reading
    tokendash_budget_ratio{budget}                             gauge, spent / limit
    tokendash_source_up{source}                                gauge, 1 when the last pass succeeded
    tokendash_source_last_success_timestamp_seconds{source}    gauge

Labels never carry a key or a raw upstream body: only ids, model names and the (redacted) agent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

TOKEN_TYPES = (("input", "input"), ("output", "output"), ("cacheRead", "cache_read"), ("cacheWrite", "cache_write"))


def _label(v: Any) -> str:
    s = "" if v is None else str(v)
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: Iterable[tuple[str, Any]]) -> str:
    return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in pairs) + "}"


def _num(v: float) -> str:
    return repr(float(v)) if math.isfinite(v) else "NaN"


def _ts(iso: str | None) -> float | None:
    if not iso:
        return None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def render(usage_rows: Iterable[Mapping[str, Any]], summary: Mapping[str, Any]) -> bytes:
    out: list[str] = []

    def family(name: str, kind: str, help_: str) -> None:
        out.append(f"# HELP {name} {help_}")
        out.append(f"# TYPE {name} {kind}")

    rows = list(usage_rows)
    family("tokendash_tokens_total", "counter", "Tokens used, by class (all time).")
    for r in rows:
        keys = [(k, r.get(k)) for k in ("provider", "model", "source", "agent")]
        for t, label in TOKEN_TYPES:
            out.append(f"tokendash_tokens_total{_labels([*keys, ('type', label)])} {r['tokens'][t]}")
    family("tokendash_cost_usd_total", "counter", "Attributed cost in USD (all time).")
    for r in rows:
        keys = [(k, r.get(k)) for k in ("provider", "model", "source", "agent")]
        out.append(f"tokendash_cost_usd_total{_labels(keys)} {_num(r['costUsd'])}")
    family("tokendash_balance", "gauge", "Newest prepaid balance reported by a provider, in its currency.")
    for p in summary.get("providers") or []:
        bal = (p.get("currentUsage") or {}).get("balance")
        if bal and bal.get("amount") is not None:
            out.append(f"tokendash_balance{_labels([('provider', p['providerId']), ('currency', bal.get('currency'))])} "
                       f"{_num(bal['amount'])}")
    family("tokendash_budget_ratio", "gauge", "Budget spent divided by its limit.")
    for b in summary.get("budgets") or []:
        if b.get("limit"):
            out.append(f"tokendash_budget_ratio{_labels([('budget', b['id'])])} {_num(b['spent'] / b['limit'])}")
    family("tokendash_source_up", "gauge", "1 when the source's last pass succeeded.")
    for s in summary.get("sources") or []:
        if s.get("configured"):
            out.append(f"tokendash_source_up{_labels([('source', s['id'])])} {1 if s.get('ok') else 0}")
    family("tokendash_source_last_success_timestamp_seconds", "gauge", "When the source last succeeded (Unix time).")
    for s in summary.get("sources") or []:
        t = _ts(s.get("lastSuccess"))
        if t is not None:
            out.append(f"tokendash_source_last_success_timestamp_seconds{_labels([('source', s['id'])])} {_num(t)}")
    return ("\n".join(out) + "\n").encode()


def collect(ctx: Any) -> bytes:
    """Blocking (a store query): run it in the thread pool."""
    from tokendash.accounting.aggregate import UsageQuery, usage

    app = ctx.app
    with app.reader() as conn:
        rows = usage(conn, UsageQuery(timezone="UTC", group_by=["provider", "model", "source", "agent"]))["rows"]
    return render(rows, ctx.summary())
