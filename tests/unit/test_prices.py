"""The fast integer price sheets agree with ``genai_prices.calc_price`` event by event, across models,
long-context tiers and 1-hour cache writes; overrides, local providers and unknown models behave."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

from genai_prices import Usage, calc_price

from tokendash.pricing.prices import COST_ESTIMATED, COST_REPORTED, COST_UNPRICED, PriceBook
from tokendash.sources.base import UsageEvent

MODELS = [
    ("anthropic", "claude-sonnet-4-5-20250929"),  # long-context tier above 200k input
    ("anthropic", "claude-opus-4-5-20251101"),
    ("anthropic", "claude-opus-4-1-20250805"),
    ("anthropic", "claude-haiku-4-5-20251001"),
    ("openai", "gpt-5"),
    ("openai", "gpt-4o-mini"),
    ("google", "gemini-2.5-pro"),  # tiered above 200k
    ("deepseek", "deepseek-chat"),
]


def _event(rng: random.Random, provider: str, model: str) -> UsageEvent:
    big = rng.random() < 0.3
    cw = rng.randint(0, 50_000)
    return UsageEvent(
        source="test", dedupe_key=str(rng.random()),
        ts_ms=int(datetime(2026, rng.randint(1, 10), rng.randint(1, 28), rng.randint(0, 23), tzinfo=UTC).timestamp() * 1000),
        provider=provider, model=model,
        input=rng.randint(0, 400_000 if big else 5_000), output=rng.randint(0, 30_000),
        cache_read=rng.randint(0, 300_000 if big else 20_000), cache_write=cw,
        cache_write_1h=rng.randint(0, cw) if provider == "anthropic" and rng.random() < 0.5 else 0,
    )


def _reference(ev: UsageEvent) -> Decimal:
    usage = Usage(
        input_tokens=ev.input + ev.cache_read + ev.cache_write, cache_read_tokens=ev.cache_read,
        cache_write_tokens=ev.cache_write, cache_write_1h_tokens=ev.cache_write_1h, output_tokens=ev.output,
    )
    when = datetime.fromtimestamp(ev.ts_ms / 1000, UTC)
    return calc_price(usage, ev.model, provider_id=ev.provider, genai_request_timestamp=when).total_price


def test_matches_calc_price_event_by_event() -> None:
    rng = random.Random(20261122)
    book = PriceBook()
    mismatches = []
    for i in range(1500):
        provider, model = MODELS[i % len(MODELS)]
        ev = _event(rng, provider, model)
        got = book.price(ev)
        assert got.cost_source == COST_ESTIMATED, (provider, model)
        want = _reference(ev)
        # Ours is rounded to the nano-dollar; the reference is exact.
        if abs(Decimal(got.cost_nusd) / Decimal(10**9) - want) > Decimal("0.0000000005"):
            mismatches.append((provider, model, ev, got.cost_nusd, want))
    assert not mismatches, mismatches[:3]


def test_long_context_tier_applies_per_request() -> None:
    book = PriceBook()
    small = UsageEvent("t", "a", 1_760_000_000_000, "anthropic", "claude-sonnet-4-5-20250929", input=200_000, output=1000)
    large = UsageEvent("t", "b", 1_760_000_000_000, "anthropic", "claude-sonnet-4-5-20250929", input=200_001, output=1000)
    # $3/$15 per MTok up to 200k input tokens, $6/$22.50 above (the whole request).
    assert book.price(small).cost_nusd == 200_000 * 3_000 + 1000 * 15_000
    assert book.price(large).cost_nusd == 200_001 * 6_000 + 1000 * 22_500


def test_reported_cost_wins_and_local_is_free_and_unknown_is_unpriced() -> None:
    book = PriceBook()
    ev = UsageEvent("t", "a", 1_760_000_000_000, "openai", "gpt-5", input=100, output=100,
                    reported_cost_usd=Decimal("0.0123"))
    assert (book.price(ev).cost_nusd, book.price(ev).cost_source) == (12_300_000, COST_REPORTED)
    ev.reported_cost_usd = Decimal(0)  # a zero in the log is "not reported", not "free"
    assert book.price(ev).cost_source == COST_ESTIMATED
    local = UsageEvent("t", "b", 1_760_000_000_000, "ollama", "llama3.1:8b", input=10_000)
    assert (book.price(local).cost_nusd, book.price(local).cost_source) == (0, COST_REPORTED)
    unknown = UsageEvent("t", "c", 1_760_000_000_000, "acme", "acme-ultra-9", input=10_000)
    assert (book.price(unknown).cost_nusd, book.price(unknown).cost_source) == (None, COST_UNPRICED)


def test_override_in_openclaw_shape() -> None:
    book = PriceBook({("acme", "acme-ultra-9"): {"input": 1.5, "output": 6, "cacheRead": 0.15, "cacheWrite": 2}})
    ev = UsageEvent("t", "c", 1_760_000_000_000, "acme", "acme-ultra-9", input=1_000_000, output=500_000,
                    cache_read=2_000_000, cache_write=100_000)
    assert book.price(ev).cost_nusd == 1_500_000_000 + 3_000_000_000 + 300_000_000 + 200_000_000
    # A wildcard provider override applies to any provider serving the model.
    book = PriceBook({("*", "gpt-5"): {"input": 1, "output": 1}})
    ev = UsageEvent("t", "d", 1_760_000_000_000, "openai", "gpt-5", input=1_000_000, output=1_000_000)
    assert book.price(ev).cost_nusd == 2_000_000_000
