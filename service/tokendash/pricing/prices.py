"""Price one usage event (SPEC §5 rules 4 and 5).

Prices come from genai-prices (pinned, offline snapshot) unless the user overrode them. Each event is
priced on its own, with its own timestamp, so a long-context tier is judged on one request and never on
an aggregate.

``genai_prices.calc_price`` costs ~130 µs a call, too slow for 130,000 events in a cold ingest. Within
one price tier the price of a request is linear in its token classes, so we resolve a model's price
sheet once (through genai-prices' own lookup, timestamp rules and price variants) and then apply it with
integer arithmetic in picodollars. ``tests/unit/test_prices.py`` checks the result against
``calc_price`` event by event, across tiers.

Cost is returned in nano-USD (integers sum exactly; one event is rounded to half a nanodollar at most).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tokendash.sources.base import UsageEvent

COST_REPORTED = "reported"
COST_ESTIMATED = "estimated"
COST_UNPRICED = "unpriced"

# Providers whose models run on the user's own hardware: cost 0, and that is a fact, not a guess.
LOCAL_PROVIDERS = frozenset({"ollama", "lmstudio", "lm-studio", "llamacpp", "llama.cpp", "vllm-local"})

# Our provider ids → genai-prices provider ids, where they differ.
PROVIDER_ALIASES = {
    "openai-codex": "openai",
    "codex": "openai",
    "claude": "anthropic",
    "google-gemini": "google",
    "gemini": "google",
    "moonshotai": "moonshotai",
    "moonshot": "moonshotai",
    "kimi": "moonshotai",
    "xai": "x-ai",
}

_PICO_PER_NANO = 1000


@dataclass(frozen=True, slots=True)
class Rate:
    """A price in picodollars per token (``base``), with optional long-context tiers
    ``((threshold, price), …)`` applied to the whole request once total input exceeds the threshold."""

    base: int
    tiers: tuple[tuple[int, int], ...] = ()

    def at(self, total_input: int) -> int:
        for start, price in reversed(self.tiers):
            if total_input > start:
                return price
        return self.base


@dataclass(frozen=True, slots=True)
class PriceSheet:
    """Rates for our five disjoint token classes plus a per-request price."""

    input: Rate
    output: Rate
    cache_read: Rate
    cache_write: Rate
    cache_write_1h: Rate
    per_request: int = 0  # picodollars
    label: str = ""
    # The five base rates when no class has long-context tiers (most models): plain products then.
    flat: tuple[int, int, int, int, int] | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        rates = (self.input, self.output, self.cache_read, self.cache_write, self.cache_write_1h)
        if not any(r.tiers for r in rates):
            object.__setattr__(self, "flat", tuple(r.base for r in rates))

    def cost_pico(self, ev: UsageEvent) -> int:
        w5 = ev.cache_write - ev.cache_write_1h
        flat = self.flat
        if flat is not None:  # no long-context tiers (most models): plain products
            i, o, r, w, w1h = flat
            return (
                ev.input * i + ev.output * o + ev.cache_read * r + w5 * w + ev.cache_write_1h * w1h
                + self.per_request
            )
        total_input = ev.input + ev.cache_read + ev.cache_write
        return (
            ev.input * self.input.at(total_input)
            + ev.output * self.output.at(total_input)
            + ev.cache_read * self.cache_read.at(total_input)
            + w5 * self.cache_write.at(total_input)
            + ev.cache_write_1h * self.cache_write_1h.at(total_input)
            + self.per_request
        )


def _to_pico_per_token(price_mtok: Decimal, per: int) -> int:
    # genai-prices quotes USD per `per` units (1,000,000 for tokens).
    value = price_mtok * Decimal(10**12) / Decimal(per)
    as_int = int(value)
    if value != as_int:
        # Sub-picodollar prices do not occur in the data; round rather than fail.
        as_int = int(value.to_integral_value())
    return as_int


def _rate(price: Any, per: int) -> Rate:
    from genai_prices.types import TieredPrices

    if isinstance(price, TieredPrices):
        return Rate(
            _to_pico_per_token(price.base, per),
            tuple((t.start, _to_pico_per_token(t.price, per)) for t in price.tiers),
        )
    return Rate(_to_pico_per_token(price, per))


_ZERO = Rate(0)


def sheet_from_model_price(model_price: Any, label: str = "") -> PriceSheet:
    """Turn a resolved genai-prices ``ModelPrice`` into a sheet for our token classes.

    genai-prices attributes a token to the most specific priced unit that contains it
    (``cache_write_1h_tokens`` ⊂ ``cache_write_tokens`` ⊂ ``input_tokens``); we do the same.
    """
    from genai_prices.types import _collect_resolved_model_prices  # pinned <0.3
    from genai_prices.units import _get_registry

    registry = _get_registry()
    priced: dict[str, Rate] = {}
    per_request = 0
    for unit, price in _collect_resolved_model_prices(model_price, registry):
        if unit.usage_key == "requests":
            per_request = _rate(price, unit.per).base
        else:
            priced[unit.usage_key] = _rate(price, unit.per)
    inp = priced.get("input_tokens", _ZERO)
    cw = priced.get("cache_write_tokens", inp)
    return PriceSheet(
        input=inp,
        output=priced.get("output_tokens", _ZERO),
        cache_read=priced.get("cache_read_tokens", inp),
        cache_write=cw,
        cache_write_1h=priced.get("cache_write_1h_tokens", cw),
        per_request=per_request,
        label=label,
    )


def sheet_from_override(cost: Mapping[str, Any], label: str = "") -> PriceSheet:
    """An override in OpenClaw's shape: USD per million tokens for input/output/cacheRead/cacheWrite."""

    def r(key: str, default: Rate | None = None) -> Rate:
        if key in cost and cost[key] is not None:
            return Rate(_to_pico_per_token(Decimal(str(cost[key])), 1_000_000))
        return default if default is not None else _ZERO

    inp = r("input")
    cw = r("cacheWrite", inp)
    return PriceSheet(
        input=inp,
        output=r("output"),
        cache_read=r("cacheRead", inp),
        cache_write=cw,
        cache_write_1h=r("cacheWrite1h", cw),
        label=label,
    )


@dataclass(frozen=True, slots=True)
class Priced:
    cost_nusd: int | None  # None when unpriced
    cost_source: str


_LOCAL, _UNPRICED, _BY_TIME = object(), object(), object()
_FREE = Priced(0, COST_REPORTED)
_NO_PRICE = Priced(None, COST_UNPRICED)


class PriceBook:
    """Prices events: reported cost first, then user overrides, then genai-prices; never a silent $0.

    ``overrides`` maps ``(provider, model)`` (lower case; provider ``"*"`` matches any) to an
    OpenClaw-style cost mapping.
    """

    def __init__(self, overrides: Mapping[tuple[str, str], Mapping[str, Any]] | None = None) -> None:
        self._overrides = {
            (p.lower(), m.lower()): sheet_from_override(c, f"override {p}/{m}")
            for (p, m), c in (overrides or {}).items()
        }
        self._lookup: dict[tuple[str, str], Any] = {}  # (provider, model) → (provider, ModelInfo) | None
        self._sheets: dict[Any, tuple[Any, PriceSheet]] = {}
        self._how: dict[tuple[Any, ...], Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        # Sent to parse workers: the overrides only; each worker fills its own caches.
        return {"_overrides": self._overrides}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._overrides = state["_overrides"]
        self._lookup, self._sheets, self._how = {}, {}, {}

    def warm(self) -> None:
        """Load the price data now (before forking workers, so they share it)."""
        from genai_prices.data_snapshot import get_snapshot

        get_snapshot()

    def price(self, ev: UsageEvent) -> Priced:
        if ev.reported_cost_usd is not None and ev.reported_cost_usd > 0:
            return Priced(int((ev.reported_cost_usd * 10**9).to_integral_value()), COST_REPORTED)
        # Per-event cost matters on a cold ingest (10^5 events): memoize what each (provider, model,
        # variant) resolves to, so most events cost one dict lookup and the integer arithmetic.
        ctx = ev.price_context
        key = (ev.provider, ev.model, tuple(sorted(ctx.items())) if ctx else None)
        how = self._how.get(key)
        if how is None:
            how = self._how[key] = self._resolve(ev.provider, ev.model, ctx)
        if how.__class__ is PriceSheet:
            sheet = how
        elif how is _LOCAL:
            return _FREE
        elif how is _UNPRICED:
            return _NO_PRICE
        else:
            sheet = self.sheet_for((ev.provider or "").lower(), ev.model, ev.ts_ms, ctx)
            if sheet is None:
                return _NO_PRICE
        pico = sheet.cost_pico(ev)
        return Priced((pico + _PICO_PER_NANO // 2) // _PICO_PER_NANO, COST_ESTIMATED)

    def _resolve(self, provider: str, model: str, ctx: Mapping[str, str] | None) -> Any:
        """A fixed sheet, ``_LOCAL``, ``_UNPRICED``, or ``_BY_TIME`` (resolved per event)."""
        p = (provider or "").lower()
        if p in LOCAL_PROVIDERS:
            return _LOCAL
        model_l = (model or "").lower()
        if (p, model_l) in self._overrides or ("*", model_l) in self._overrides:
            return self.sheet_for(p, model, 0, ctx)
        found = self._find(p, model_l)
        if found is None:
            return _UNPRICED
        from genai_prices.types import ModelPrice

        if isinstance(found[1].prices, ModelPrice) and not (found[1].price_variants and ctx):
            return self.sheet_for(p, model, 0, ctx)  # one price whatever the time
        return _BY_TIME

    def sheet_for(
        self, provider: str, model: str, ts_ms: int, price_context: Mapping[str, str] | None = None
    ) -> PriceSheet | None:
        model_l = (model or "").lower()
        override = self._overrides.get((provider, model_l)) or self._overrides.get(("*", model_l))
        if override is not None:
            return override
        found = self._find(provider, model_l)
        if found is None:
            return None
        gp_provider, info = found
        from genai_prices.types import ModelPrice

        if isinstance(info.prices, ModelPrice) and not info.price_variants:
            mp = info.prices
        else:
            # Time-conditional prices and variants (``speed: fast``) resolve per event; the lookup itself
            # is sub-microsecond, building a sheet is not, so sheets are cached per resolved price.
            when = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
            mp = info.get_prices(when, dict(price_context) if price_context else None)
        # A variant is resolved into a new object on every call: key it by its content instead.
        key: Any = id(mp) if not price_context else (gp_provider.id, info.id, repr(sorted(mp.__dict__.items())))
        hit = self._sheets.get(key)
        if hit is not None and (price_context or hit[0] is mp):
            return hit[1]
        sheet = sheet_from_model_price(mp, f"{gp_provider.id}/{info.id}")
        self._sheets[key] = (mp, sheet)  # the price object is kept, so its id cannot be reused
        return sheet

    def _find(self, provider: str, model: str) -> Any:
        key = (provider, model)
        if key in self._lookup:
            return self._lookup[key]
        from genai_prices.data_snapshot import get_snapshot

        snap = get_snapshot()
        gp_id = PROVIDER_ALIASES.get(provider, provider) or None
        found = None
        for pid in (gp_id, None):
            try:
                found = snap.find_provider_model(model, None, pid, None)
                break
            except LookupError:
                continue
        self._lookup[key] = found
        return found
