"""DeepSeek: ``GET /user/balance`` (Bearer) → ``{"is_available": bool, "balance_infos": [{"currency",
"total_balance", "granted_balance", "topped_up_balance"}]}``. Amounts are decimal **strings**, and
there may be one entry per currency (CNY, USD): each becomes its own balance, never summed across
currencies."""

from __future__ import annotations

from tokendash.providers.base import Context, ProviderDef
from tokendash.providers.http import ProviderError, ProviderHttp
from tokendash.providers.model import Balance, Fetched, money, shape_error

ID = "deepseek"
ENDPOINT = "/user/balance"


def _balances(http: ProviderHttp, out: Fetched) -> list[Balance]:
    body = http.get_json(ENDPOINT)
    infos = body.get("balance_infos") if isinstance(body, dict) else None
    if not isinstance(infos, list) or not infos:
        raise shape_error(ID, ENDPOINT, "no 'balance_infos' list")
    got = []
    for info in infos:
        cur = info.get("currency") if isinstance(info, dict) else None
        if not isinstance(cur, str) or not cur.strip():
            raise shape_error(ID, ENDPOINT, "a balance has no currency")
        cur = cur.strip().upper()
        try:
            amount = money(info.get("total_balance"), ID, ENDPOINT, f"{cur} total_balance")
        except ProviderError as e:  # SPEC §5 rule 8: null plus an error, never NaN
            out.balances.append(Balance("balance", cur, None, cur, problem=e.problem))
            raise
        extra = {k: float(money(info[k], ID, ENDPOINT, k)) for k in ("granted_balance", "topped_up_balance")
                 if info.get(k) is not None}
        extra["is_available"] = bool(body.get("is_available"))
        got.append(Balance("balance", cur, amount, cur, extra=extra))
    return got


def fetch(ctx: Context) -> Fetched:
    out = Fetched(ID)
    http = ctx.client(ctx.settings.deepseek_base_url, {"Authorization": f"Bearer {ctx.keys['api']}"})
    got = out.run("balance", lambda: _balances(http, out))
    if got is not None:
        out.balances += got
    return out


PROVIDER = ProviderDef(
    id=ID, name="DeepSeek", required=("api",), capabilities=lambda keys: ["balance"], fetch=fetch,
    base_url=lambda s: s.deepseek_base_url,
)
