"""OpenRouter (``Authorization: Bearer sk-or-…``); every body is wrapped in ``{"data": …}``.

* ``GET /key`` (any key): the key's ``usage_daily``/``usage_weekly``/``usage_monthly`` (USD, UTC
  windows) and its nullable ``limit``/``limit_remaining``. Today's spend comes from here. ``label``
  holds part of the key and is never kept.
* ``GET /credits`` (management key only; 403 otherwise): ``{total_credits, total_usage}``. The balance
  is ``total_credits - total_usage`` (the original plugin read ``limit - usage`` here: NaN).
* ``GET /activity`` (management key): per day, model and endpoint for the last 30 completed UTC days;
  ``usage`` in USD. No pagination.

Without a management key there is no account balance; a key with a limit reports what it may still
spend as ``key_remaining`` (a real figure from the API, labelled as such, never called the balance).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tokendash.providers.base import Context, ProviderDef
from tokendash.providers.http import ProviderHttp
from tokendash.providers.model import DAY_MS, Balance, Bucket, Fetched, count, money, shape_error

ID = "openrouter"


def _data(http: ProviderHttp, endpoint: str) -> Any:
    body = http.get_json(endpoint)
    if not isinstance(body, dict) or "data" not in body:
        raise shape_error(ID, endpoint, "no 'data'")
    return body["data"]


def _key(http: ProviderHttp, ctx: Context, out: Fetched) -> list[Bucket]:
    d = _data(http, "/key")
    if not isinstance(d, dict):
        raise shape_error(ID, "/key", "'data' is not an object")
    windows = {k: money(d.get(k), ID, "/key", k) for k in ("usage_daily", "usage_weekly", "usage_monthly")}
    extra: dict[str, Any] = {k: float(v) for k, v in windows.items()}
    extra["limit_reset"] = d.get("limit_reset") if isinstance(d.get("limit_reset"), str) else None
    extra["is_free_tier"] = bool(d.get("is_free_tier"))
    if d.get("limit") is not None:
        limit = money(d.get("limit"), ID, "/key", "limit")
        remaining = d.get("limit_remaining")
        left = money(remaining, ID, "/key", "limit_remaining") if remaining is not None else limit - windows["usage_monthly"]
        out.balances.append(Balance("key_remaining", "key", left, "USD", limit=limit, extra=extra))
    return [Bucket(endpoint="key", start_ms=ctx.today_ms, end_ms=ctx.today_ms + DAY_MS, cost=windows["usage_daily"], currency="USD")]


def _credits(http: ProviderHttp) -> Balance:
    d = _data(http, "/credits")
    if not isinstance(d, dict):
        raise shape_error(ID, "/credits", "'data' is not an object")
    total = money(d.get("total_credits"), ID, "/credits", "total_credits")
    used = money(d.get("total_usage"), ID, "/credits", "total_usage")
    return Balance("balance", "credits", total - used, "USD", extra={"total_credits": float(total), "total_usage": float(used)})


def _activity(http: ProviderHttp) -> list[Bucket]:
    rows = _data(http, "/activity")
    if not isinstance(rows, list):
        raise shape_error(ID, "/activity", "'data' is not a list")
    out = []
    for r in rows:
        if not isinstance(r, dict) or not isinstance(r.get("date"), str):
            raise shape_error(ID, "/activity", "a row has no date")
        try:
            day = date.fromisoformat(r["date"][:10])
        except ValueError:
            raise shape_error(ID, "/activity", f"bad date {r['date'][:20]!r}") from None
        start = (day.toordinal() - date(1970, 1, 1).toordinal()) * DAY_MS
        model = r.get("model") if isinstance(r.get("model"), str) else None
        who = r.get("provider_name") if isinstance(r.get("provider_name"), str) else ""
        out.append(Bucket(
            endpoint="activity", start_ms=start, end_ms=start + DAY_MS, dim=f"{model or ''}|{who}"[:500], model=model,
            input=count(r.get("prompt_tokens"), ID, "/activity", "prompt_tokens"),
            output=count(r.get("completion_tokens"), ID, "/activity", "completion_tokens"),
            reasoning=count(r.get("reasoning_tokens"), ID, "/activity", "reasoning_tokens"),
            requests=count(r.get("requests"), ID, "/activity", "requests"),
            cost=money(r.get("usage"), ID, "/activity", "usage"), currency="USD",
        ))
    return out


def fetch(ctx: Context) -> Fetched:
    out = Fetched(ID)
    base = ctx.settings.openrouter_base_url
    if "api" in ctx.keys:
        http = ctx.client(base, {"Authorization": f"Bearer {ctx.keys['api']}"})
        today = out.run("key", lambda: _key(http, ctx, out))
        if today is not None:
            out.buckets += today
            out.replace.append(("key", ctx.today_ms, ctx.today_ms + DAY_MS))
    if "management" in ctx.keys:
        mgmt = ctx.client(base, {"Authorization": f"Bearer {ctx.keys['management']}"})
        bal = out.run("credits", lambda: _credits(mgmt))
        if bal is not None:
            out.balances.append(bal)
        act = out.run("activity", lambda: _activity(mgmt))
        if act is not None:
            out.buckets += act
            out.replace.append(("activity", ctx.today_ms - 31 * DAY_MS, ctx.today_ms))
            # A completed day's activity supersedes what /key said about it while it was "today".
            out.replace += [("key", s, s + DAY_MS) for s in sorted({b.start_ms for b in act})]
    return out


def capabilities(keys: dict[str, str]) -> list[str]:
    return (["balance"] if "management" in keys else []) + ["usage", "cost"]


PROVIDER = ProviderDef(
    id=ID, name="OpenRouter", required=("api", "management"), capabilities=capabilities, fetch=fetch,
    base_url=lambda s: s.openrouter_base_url,
)
