"""The methods table: name → handler, shared by JSON-RPC, gRPC and the in-process CLI.

A handler takes ``(app, params)`` and returns the result as a JSON-ready dict (proto JSON names). It
knows nothing about transports; errors are raised as ``tokendash.errors`` exceptions and translated once
at each edge.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tokendash.errors import InvalidParams

Handler = Callable[[Any, Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Method:
    name: str
    handler: Handler
    scope: str  # "read" or "write"


def _check_keys(params: Mapping[str, Any], allowed: set[str]) -> None:
    if not isinstance(params, Mapping):
        raise InvalidParams("params", "must be an object")
    for k in params:
        if k not in allowed:
            raise InvalidParams(k, f"unknown parameter; use {', '.join(sorted(allowed)) or 'none'}")


def _format(params: Mapping[str, Any]) -> str:
    fmt = params.get("format", "json")
    if fmt not in ("json", "text"):
        raise InvalidParams("format", "must be 'json' or 'text'")
    return fmt


def usage(app: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    from tokendash.accounting.aggregate import UsageQuery
    from tokendash.accounting.aggregate import usage as run

    q = UsageQuery.from_params(params, app.timezone)
    with app.reader() as conn:
        return run(conn, q)


def summary(app: Any, now_ms: int | None = None) -> dict[str, Any]:
    from tokendash.accounting.summary import build_summary

    known = [(s.id, s.kind, bool(s.configured())) for s in app.sources()]
    states = app.store.source_states()
    with app.store.engine.connect() as conn:
        return build_summary(
            conn,
            tz_name=app.timezone,
            now_ms=now_ms if now_ms is not None else int(time.time() * 1000),
            currency=app.settings.currency,
            source_states=states,
            known_sources=known,
            subscription=app.subscription_sources(),
        )


def status(app: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    _check_keys(params, {"scope", "maxAgeSeconds", "refresh", "timeoutSeconds", "format"})
    fmt = _format(params)
    result = summary(app)
    if fmt == "text":
        from tokendash.render.text import render_summary

        result["text"] = render_summary(result)
    return result


def burn(app: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    _check_keys(params, {"format"})
    fmt = _format(params)
    s = summary(app)
    total = {
        "providerId": "total",
        "costPerDay": s["totalDailyCostUsd"],
        "costPerHour": sum(p["burnRate"]["costPerHour"] for p in s["providers"]),
        "tokensPerDay": sum(p["burnRate"]["tokensPerDay"] for p in s["providers"]),
        "tokensPerHour": sum(p["burnRate"]["tokensPerHour"] for p in s["providers"]),
        "runwayDays": s["totalRunwayDays"],
        "runwayHours": s["totalRunwayDays"] * 24 if s["totalRunwayDays"] is not None else None,
    }
    result: dict[str, Any] = {
        "total": total,
        "providers": [{"providerId": p["providerId"], **p["burnRate"]} for p in s["providers"]],
    }
    if fmt == "text":
        from tokendash.render.text import render_burn

        result["text"] = render_burn(s)
    return result


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("token-dashboard.status", status, "read"),
        Method("token-dashboard.usage", usage, "read"),
        Method("token-dashboard.burn", burn, "read"),
    )
}
