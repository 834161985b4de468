"""OpenAI organization billing (Admin key, ``Authorization: Bearer sk-admin-…``).

* ``GET /organization/usage/completions`` and ``/organization/usage/embeddings``: daily buckets
  (``start_time``/``end_time`` Unix seconds, UTC midnight), grouped by model, paginated with
  ``has_more``/``next_page``. ``input_tokens`` *includes* cached and cache-write tokens, so uncached
  input is ``input_tokens - input_cached_tokens - input_cache_write_tokens``.
* ``GET /organization/costs``: daily buckets grouped by line item, ``amount.value`` in dollars with
  ``currency: "usd"``.
* ``GET /organization/spend_limit``: ``threshold_amount`` in cents, a cap on the month, not a balance.
  OpenAI has no balance API, so none is shown.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tokendash.providers.base import Context, ProviderDef
from tokendash.providers.http import ProviderHttp
from tokendash.providers.model import Balance, Bucket, Fetched, count, money, shape_error

ID = "openai"


def _buckets(http: ProviderHttp, endpoint: str, params: list[tuple[str, str | int]]) -> list[dict[str, Any]]:
    data = http.paginate(endpoint, params)
    for b in data:
        if not isinstance(b, dict) or not isinstance(b.get("results"), list):
            raise shape_error(ID, endpoint, "a bucket has no 'results' list")
        if not isinstance(b.get("start_time"), int) or not isinstance(b.get("end_time"), int):
            raise shape_error(ID, endpoint, "a bucket has no integer start_time/end_time")
    return data


def _usage(http: ProviderHttp, kind: str, params: list[tuple[str, str | int]]) -> list[Bucket]:
    endpoint = f"/organization/usage/{kind}"
    out = []
    for b in _buckets(http, endpoint, [*params, ("group_by[]", "model")]):
        for r in b["results"]:
            if not isinstance(r, dict):
                raise shape_error(ID, endpoint, "a result is not an object")
            total_in = count(r.get("input_tokens"), ID, endpoint, "input_tokens")
            cached = count(r.get("input_cached_tokens"), ID, endpoint, "input_cached_tokens")
            written = count(r.get("input_cache_write_tokens"), ID, endpoint, "input_cache_write_tokens")
            model = r.get("model") if isinstance(r.get("model"), str) else None
            out.append(Bucket(
                endpoint=f"usage.{kind}", start_ms=b["start_time"] * 1000, end_ms=b["end_time"] * 1000,
                dim=model or "", model=model, input=max(0, total_in - cached - written),
                output=count(r.get("output_tokens"), ID, endpoint, "output_tokens"), cache_read=cached,
                cache_write=written, requests=count(r.get("num_model_requests"), ID, endpoint, "num_model_requests"),
            ))
    return out


def _costs(http: ProviderHttp, params: list[tuple[str, str | int]]) -> list[Bucket]:
    endpoint = "/organization/costs"
    out = []
    for b in _buckets(http, endpoint, [*params, ("group_by[]", "line_item")]):
        for r in b["results"]:
            amount = r.get("amount") if isinstance(r, dict) else None
            if not isinstance(amount, dict):
                raise shape_error(ID, endpoint, "a cost result has no 'amount' object")
            line = r.get("line_item") if isinstance(r.get("line_item"), str) else ""
            cur = amount.get("currency")
            out.append(Bucket(
                endpoint="costs", start_ms=b["start_time"] * 1000, end_ms=b["end_time"] * 1000, dim=line,
                cost=money(amount.get("value"), ID, endpoint, "amount.value"),
                currency=cur.upper() if isinstance(cur, str) and cur else "USD",
            ))
    return out


def _spend_limit(http: ProviderHttp) -> Balance:
    endpoint = "/organization/spend_limit"
    body = http.get_json(endpoint)
    if not isinstance(body, dict) or "threshold_amount" not in body:
        raise shape_error(ID, endpoint, "no threshold_amount")
    cap = money(body["threshold_amount"], ID, endpoint, "threshold_amount") / Decimal(100)  # cents
    cur = body.get("currency") if isinstance(body.get("currency"), str) else "USD"
    interval = body.get("interval") if isinstance(body.get("interval"), str) else None
    return Balance("spend_limit", interval or "month", cap, cur.upper(), limit=cap, extra={"interval": interval})


def fetch(ctx: Context) -> Fetched:
    out = Fetched(ID)
    http = ctx.client(ctx.settings.openai_base_url, {"Authorization": f"Bearer {ctx.keys['admin']}"})
    start, end = ctx.start_ms, ctx.end_ms
    common: list[tuple[str, str | int]] = [
        ("start_time", start // 1000), ("end_time", end // 1000), ("bucket_width", "1d"), ("limit", 31),
    ]
    for kind in ("completions", "embeddings"):
        got = out.run(f"usage/{kind}", lambda kind=kind: _usage(http, kind, common))
        if got is not None:
            out.buckets += got
            out.replace.append((f"usage.{kind}", start, end))
    costs = out.run("costs", lambda: _costs(http, common))
    if costs is not None:
        out.buckets += costs
        out.replace.append(("costs", start, end))
    limit = out.run("spend_limit", lambda: _spend_limit(http))
    if limit is not None:
        out.balances.append(limit)
    return out


PROVIDER = ProviderDef(
    id=ID, name="OpenAI", required=("admin",), capabilities=lambda keys: ["usage", "cost"], fetch=fetch,
    base_url=lambda s: s.openai_base_url,
)
