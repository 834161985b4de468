"""Moonshot / Kimi: ``GET /users/me/balance`` (Bearer) →
``{"code": 0, "data": {"available_balance", "voucher_balance", "cash_balance"}, "scode", "status"}``.

There is no currency field: it follows the host (``api.moonshot.cn`` → CNY, otherwise USD) unless
``TOKENDASH_MOONSHOT_CURRENCY`` says otherwise. ``!status`` or ``code != 0`` is an error.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tokendash.providers.base import Context, ProviderDef
from tokendash.providers.http import ProviderError, ProviderHttp
from tokendash.providers.model import Balance, Fetched, money, shape_error

ID = "moonshot"
ENDPOINT = "/users/me/balance"


def currency_for(base_url: str, override: str | None = None) -> str:
    if override:
        return override.strip().upper()
    host = (urlsplit(base_url).hostname or "").lower()
    return "CNY" if host.endswith(".cn") else "USD"


def _balance(http: ProviderHttp, currency: str, out: Fetched) -> Balance:
    body = http.get_json(ENDPOINT)
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise shape_error(ID, ENDPOINT, "no 'data' object")
    if not body.get("status") or body.get("code") != 0:
        code = body.get("code")
        raise ProviderError(ID, ENDPOINT, f"the API answered code {code if isinstance(code, int) else '?'} (status false)")
    d = body["data"]
    try:
        amount = money(d.get("available_balance"), ID, ENDPOINT, "available_balance")
    except ProviderError as e:  # SPEC §5 rule 8: a non-finite balance is null plus an error
        out.balances.append(Balance("balance", currency, None, currency, problem=e.problem))
        raise
    extra = {k: float(money(d[k], ID, ENDPOINT, k)) for k in ("voucher_balance", "cash_balance") if d.get(k) is not None}
    return Balance("balance", currency, amount, currency, extra=extra)


def fetch(ctx: Context) -> Fetched:
    out = Fetched(ID)
    base = ctx.settings.moonshot_base_url
    http = ctx.client(base, {"Authorization": f"Bearer {ctx.keys['api']}"})
    currency = currency_for(base, ctx.settings.moonshot_currency)
    bal = out.run("balance", lambda: _balance(http, currency, out))
    if bal is not None:
        out.balances.append(bal)
    return out


PROVIDER = ProviderDef(
    id=ID, name="Moonshot (Kimi)", required=("api",), capabilities=lambda keys: ["balance"], fetch=fetch,
    base_url=lambda s: s.moonshot_base_url,
)
