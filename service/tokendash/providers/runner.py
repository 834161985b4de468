"""One pass over the provider sources: fetch concurrently, store from one thread.

Each provider runs in its own thread with its own client, deadline and request budget, so a slow or
failing provider never delays another beyond its own bound. Results are written by the caller's thread
(one writer). A provider that got nothing keeps its last good figures; only its state changes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from tokendash.providers.base import Context, ProviderDef
from tokendash.providers.http import HttpPolicy, Redactor
from tokendash.providers.keys import KEYS, provider_keys
from tokendash.providers.model import EndpointResult, Fetched
from tokendash.providers.registry import PROVIDERS


@dataclass
class PollResult:
    source: str
    ok: bool
    error: str | None = None
    items: int = 0
    requests: int = 0
    seconds: float = 0.0
    endpoints: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The ``refresh`` result entry (``{source, ok, error?, items}``) plus what each endpoint did."""
        return {
            "source": self.source, "ok": self.ok, "error": self.error, "items": self.items,
            "requests": self.requests, "seconds": round(self.seconds, 3), "endpoints": self.endpoints,
        }


def openclaw_config(settings: Any) -> dict[str, Any] | None:
    from tokendash.config.openclaw import load_openclaw_config

    try:
        return load_openclaw_config(settings.openclaw_state_dir)
    except Exception:  # a broken OpenClaw config only means no keys from it; doctor reports it
        return None


def enabled(settings: Any, only: Iterable[str] | None = None) -> list[ProviderDef]:
    """Provider sources that are switched on (``enabledProviders``, ``[sources.<id>] enabled``)."""
    wanted = set(only) if only else None
    allowed = set(settings.enabled_providers) if settings.enabled_providers is not None else None
    return [
        d for pid, d in PROVIDERS.items()
        if (wanted is None or pid in wanted) and (allowed is None or pid in allowed)
        and settings.source_options(pid).enabled
    ]


def all_keys(settings: Any) -> dict[str, dict[str, str]]:
    cfg = openclaw_config(settings)
    return {pid: provider_keys(pid, cfg) for pid in PROVIDERS}


def _fetch(d: ProviderDef, keys: dict[str, str], settings: Any, now_ms: int,
           transport: httpx.BaseTransport | None) -> Fetched:
    ctx = Context(d.id, keys, settings, now_ms, HttpPolicy.from_settings(settings), transport)
    t0 = time.monotonic()
    try:
        out = d.fetch(ctx)
    except Exception as e:  # a parser bug must not take the others down; its text may hold data, so not shown
        out = Fetched(d.id, endpoints=[EndpointResult("poll", False, f"{d.id}: internal error ({type(e).__name__})")])
    finally:
        for c in ctx.clients:
            c.close()
    out.requests = ctx.requests
    out.seconds = time.monotonic() - t0
    return out


def poll(app: Any, only: Iterable[str] | None = None, now_ms: int | None = None,
         transport: httpx.BaseTransport | None = None) -> list[PollResult]:
    """Poll every configured provider (or those in ``only``) once and store what they report."""
    return poll_into(app.settings, app.store, only, now_ms, transport)


def poll_into(settings: Any, store: Any, only: Iterable[str] | None = None, now_ms: int | None = None,
              transport: httpx.BaseTransport | None = None) -> list[PollResult]:
    """``poll`` with its parts spelled out (the scheduler's source adapter has settings and a store)."""
    from tokendash.store import providers as pstore

    defs = enabled(settings, only)
    keys = all_keys(settings)
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    results: list[PollResult] = []
    jobs = [d for d in defs if d.configured(keys[d.id])]
    for d in defs:
        if not d.configured(keys[d.id]) and only:
            need = " or ".join(KEYS[d.id][r].var for r in d.required)
            results.append(PollResult(d.id, False, f"{d.id}: not configured (set {need})"))
    if not jobs:
        return results
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="provider") as pool:
        futures = {d.id: pool.submit(_fetch, d, keys[d.id], settings, now_ms, transport) for d in jobs}
        fetched = {pid: f.result() for pid, f in futures.items()}
    secrets = [k for ks in keys.values() for k in ks.values()]
    redact = Redactor(secrets)
    for d in jobs:
        f = fetched[d.id]
        for e in f.endpoints:  # belt and braces: no key of any provider in a stored error
            e.error = redact(e.error) if e.error else None
            e.problem = redact(e.problem)
        if f.any_ok or f.balances:  # a non-finite balance is stored as null (SPEC §5 rule 8)
            items = pstore.write_poll(store.engine, store.host, f, now_ms, settings.fx, settings.history_retention_days)
        else:
            pstore.record_failure(store.engine, f, now_ms)
            items = 0
        results.append(PollResult(
            d.id, f.ok, f.error, items, f.requests, f.seconds, [e.as_dict() for e in f.endpoints]
        ))
    return results
