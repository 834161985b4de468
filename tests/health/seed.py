"""A small month of usage written into a real SQLite store, with the figures worked out by hand.

Report time: 2026-11-22T14:00:00Z (15:00 in Europe/Amsterdam, CET). The month starts at local midnight
on 1 November = 2026-10-31T23:00:00Z. Costs are set on the events (the pricing is tested elsewhere).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tokendash.pricing.prices import Priced
from tokendash.sources.base import UsageEvent

NOW = datetime(2026, 11, 22, 14, 0, 0, tzinfo=UTC)
NANO = 10**9


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


# (source, key, ts, provider, model, input, output, cache_read, cache_write, cost USD or None, cost source)
EVENTS = [
    ("claude-code", "a1", "2026-11-22T10:00:00Z", "anthropic", "claude-sonnet-4-5", 1000, 500, 10000, 2000, 10.0, "estimated"),
    ("claude-code", "a2", "2026-11-05T12:00:00Z", "anthropic", "claude-opus-4-1", 200, 100, 0, 0, 5.0, "estimated"),
    # Local midnight of 1 November: inside the month; one second earlier is October.
    ("claude-code", "a3", "2026-10-31T23:00:00Z", "anthropic", "claude-sonnet-4-5", 100, 0, 0, 0, 1.0, "estimated"),
    ("claude-code", "old", "2026-10-31T22:59:59Z", "anthropic", "claude-sonnet-4-5", 9999, 0, 0, 0, 100.0, "estimated"),
    ("claude-code", "future", "2026-11-22T15:00:00Z", "anthropic", "claude-sonnet-4-5", 9999, 0, 0, 0, 50.0, "estimated"),
    ("openclaw", "o1", "2026-11-10T08:00:00Z", "openrouter", "moonshotai/kimi-k2", 5000, 1000, 0, 0, 2.5, "reported"),
    ("openclaw", "o2", "2026-11-12T08:00:00Z", "openrouter", "mystery/model", 700, 300, 0, 0, None, "unpriced"),
    ("openclaw", "o3", "2026-11-15T08:00:00Z", "ollama", "llama3.1:8b", 800, 200, 0, 0, 0.0, "reported"),
    # Codex on a ChatGPT plan (billing = "subscription"): shown, not spent.
    ("codex", "c1", "2026-11-20T09:00:00Z", "openai", "gpt-5-codex", 40000, 2000, 100000, 0, 3.0, "estimated"),
]

# Worked out by hand from EVENTS (the "old" and "future" rows are outside the month).
ANTHROPIC_USD = 10.0 + 5.0 + 1.0  # 16.00
ANTHROPIC_TOKENS = 13500 + 300 + 100  # 13,900
OPENROUTER_USD = 2.5
OPENROUTER_TOKENS = 6000 + 1000
MONTH_USD = ANTHROPIC_USD + OPENROUTER_USD  # 18.50 metered
MONTH_TOKENS = ANTHROPIC_TOKENS + OPENROUTER_TOKENS + 142000 + 1000  # 163,900
SUBSCRIPTION_USD = 3.0
EUR_RATE = 1.25  # 1 EUR = 1.25 USD

SETTINGS: dict[str, Any] = {
    "timezone": "Europe/Amsterdam",
    "currency": "EUR",
    "fx": {"EUR": EUR_RATE},
    "sources": {"codex": {"billing": "subscription"}},
    "budgets": [
        # 18.50 USD = 14.80 EUR of 20 → 74.0 %: just under the 75 % warning.
        {"id": "monthly-all", "period": "monthly", "limit": 20},
        # Week from Monday 16 Nov: only a1 (10 USD = 8 EUR) is metered → 80 %: warning.
        {"id": "weekly-all", "period": "weekly", "limit": 10},
        # Today, anthropic only: a1 = 8 EUR of 8 → 100 %: exceeded.
        {"id": "daily-anthropic", "period": "daily", "limit": 8, "scope": {"provider": "anthropic"}},
    ],
}


def seed(store: Any) -> None:
    by_source: dict[str, list[tuple[UsageEvent, Priced]]] = {}
    for source, key, ts, provider, model, i, o, cr, cw, usd, cost_source in EVENTS:
        ev = UsageEvent(source=source, dedupe_key=key, ts_ms=_ms(ts), provider=provider, model=model,
                        input=i, output=o, cache_read=cr, cache_write=cw, agent="main")
        cost = None if usd is None else round(usd * NANO)
        by_source.setdefault(source, []).append((ev, Priced(cost, cost_source)))
    for source, events in by_source.items():
        store.write_batch(source, events)
