"""Anthropic Admin API (``x-api-key: sk-ant-admin…`` and ``anthropic-version: 2023-06-01``).

* ``GET /v1/organizations/usage_report/messages``: daily buckets with RFC 3339 ``starting_at`` /
  ``ending_at``, grouped by model; ``uncached_input_tokens`` *excludes* cache reads and writes; cache
  writes are ``cache_creation.ephemeral_5m_input_tokens + ephemeral_1h_input_tokens``.
* ``GET /v1/organizations/cost_report``: daily buckets grouped by description; ``amount`` is a decimal
  **string in cents** (``"123.78912"`` = $1.2378912).
Both paginate with ``has_more``/``next_page``. Anthropic has no balance API, so none is shown.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tokendash.providers.base import Context, ProviderDef
from tokendash.providers.http import ProviderHttp
from tokendash.providers.model import Bucket, Fetched, count, money, parse_rfc3339, rfc3339, shape_error

ID = "anthropic"
VERSION = "2023-06-01"


def _pages(http: ProviderHttp, endpoint: str, params: list[tuple[str, str | int]]) -> list[tuple[int, int, list[Any]]]:
    out = []
    for b in http.paginate(endpoint, params):
        if not isinstance(b, dict) or not isinstance(b.get("results"), list):
            raise shape_error(ID, endpoint, "a bucket has no 'results' list")
        out.append((parse_rfc3339(b.get("starting_at"), ID, endpoint), parse_rfc3339(b.get("ending_at"), ID, endpoint), b["results"]))
    return out


def _usage(http: ProviderHttp, params: list[tuple[str, str | int]]) -> list[Bucket]:
    endpoint = "/v1/organizations/usage_report/messages"
    out = []
    for start, end, results in _pages(http, endpoint, [*params, ("group_by[]", "model")]):
        for r in results:
            if not isinstance(r, dict):
                raise shape_error(ID, endpoint, "a result is not an object")
            cc = r.get("cache_creation") or {}
            if not isinstance(cc, dict):
                raise shape_error(ID, endpoint, "cache_creation is not an object")
            model = r.get("model") if isinstance(r.get("model"), str) else None
            out.append(Bucket(
                endpoint="usage_report", start_ms=start, end_ms=end, dim=model or "", model=model,
                input=count(r.get("uncached_input_tokens"), ID, endpoint, "uncached_input_tokens"),
                output=count(r.get("output_tokens"), ID, endpoint, "output_tokens"),
                cache_read=count(r.get("cache_read_input_tokens"), ID, endpoint, "cache_read_input_tokens"),
                cache_write=count(cc.get("ephemeral_5m_input_tokens"), ID, endpoint, "ephemeral_5m_input_tokens")
                + count(cc.get("ephemeral_1h_input_tokens"), ID, endpoint, "ephemeral_1h_input_tokens"),
            ))
    return out


def _costs(http: ProviderHttp, params: list[tuple[str, str | int]]) -> list[Bucket]:
    endpoint = "/v1/organizations/cost_report"
    out = []
    for start, end, results in _pages(http, endpoint, [*params, ("group_by[]", "description")]):
        for r in results:
            if not isinstance(r, dict):
                raise shape_error(ID, endpoint, "a result is not an object")
            dim = " | ".join(str(r[k]) for k in ("description", "model", "token_type", "service_tier", "context_window")
                             if isinstance(r.get(k), str))
            model = r.get("model") if isinstance(r.get("model"), str) else None
            cur = r.get("currency") if isinstance(r.get("currency"), str) else "USD"
            out.append(Bucket(
                endpoint="cost_report", start_ms=start, end_ms=end, dim=dim[:500], model=model,
                cost=money(r.get("amount"), ID, endpoint, "amount") / Decimal(100), currency=cur.upper(),
            ))
    return out


def fetch(ctx: Context) -> Fetched:
    out = Fetched(ID)
    http = ctx.client(ctx.settings.anthropic_base_url, {"x-api-key": ctx.keys["admin"], "anthropic-version": VERSION})
    start, end = ctx.start_ms, ctx.end_ms
    common: list[tuple[str, str | int]] = [
        ("starting_at", rfc3339(start)), ("ending_at", rfc3339(end)), ("bucket_width", "1d"), ("limit", 31),
    ]
    usage = out.run("usage_report", lambda: _usage(http, common))
    if usage is not None:
        out.buckets += usage
        out.replace.append(("usage_report", start, end))
    costs = out.run("cost_report", lambda: _costs(http, common))
    if costs is not None:
        out.buckets += costs
        out.replace.append(("cost_report", start, end))
    return out


PROVIDER = ProviderDef(
    id=ID, name="Anthropic", required=("admin",), capabilities=lambda keys: ["usage", "cost"], fetch=fetch,
    base_url=lambda s: s.anthropic_base_url,
)
