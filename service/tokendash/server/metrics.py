"""``GET /metrics``: Prometheus text exposition (SPEC §12) of what the store and the dashboard hold.

    tokendash_tokens_total{provider,model,source,agent,type}    counter, all time
    tokendash_cost_usd_total{provider,model,source,agent}       counter, all time (attributed cost)
    tokendash_balance{provider,currency}                       gauge, newest balance reading
    tokendash_budget_ratio{budget}                             gauge, spent / limit
    tokendash_source_up{source}                                gauge, 1 when the last pass succeeded
    tokendash_source_last_success_timestamp_seconds{source}    gauge
    process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds, process_max_fds,
    process_cpu_seconds_total, process_start_time_seconds      the sidecar itself (Prometheus' standard names)

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


_PROCESS: Any = None


def process_metrics() -> bytes:
    """The standard process collector's families, from psutil (a few syscalls, no /proc parsing here)."""
    global _PROCESS
    import psutil

    if _PROCESS is None:
        _PROCESS = psutil.Process()
    p = _PROCESS
    out: list[str] = []

    def one(name: str, kind: str, help_: str, value: float) -> None:
        out.extend((f"# HELP {name} {help_}", f"# TYPE {name} {kind}", f"{name} {_num(value)}"))

    with p.oneshot():
        mem = p.memory_info()
        cpu = p.cpu_times()
        one("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", mem.rss)
        one("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", mem.vms)
        one("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
            cpu.user + cpu.system)
        one("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
            p.create_time())
        if hasattr(p, "num_fds"):
            one("process_open_fds", "gauge", "Number of open file descriptors.", p.num_fds())
            try:
                import resource

                soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
                if soft != resource.RLIM_INFINITY:
                    one("process_max_fds", "gauge", "Maximum number of open file descriptors.", soft)
            except (ImportError, ValueError, OSError):
                pass
    return ("\n".join(out) + "\n").encode()


def collect(ctx: Any) -> bytes:
    """Blocking (a store query): run it in the thread pool."""
    from tokendash.accounting.aggregate import UsageQuery, usage

    app = ctx.app
    with app.reader() as conn:
        rows = usage(conn, UsageQuery(timezone="UTC", group_by=["provider", "model", "source", "agent"]))["rows"]
    return render(rows, ctx.summary()) + process_metrics()
