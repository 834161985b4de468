"""A world of five fake providers with known data, and a fresh App on a real SQLite store per test.

The clock is fixed at ``NOW`` = 2026-11-22T12:00:00Z (a Sunday); the month is November 2026. What each
fake holds is chosen so that the expected figures can be worked out by hand in the tests:

* OpenAI costs: Nov 1–22 $0.75 + $0.50 a day, except Nov 10 (an empty bucket); Oct 22–31 $2.00 a day.
  Completions every Nov day: 1000 input (400 cached, 100 cache-write), 500 output, 5 requests;
  embeddings 16 input, 2 requests. Spend limit 10000 cents. 10 buckets a page.
* Anthropic costs (cents strings): Nov days "123.78912" + "76.2" = 199.98912 cents; Oct days "500".
  Usage every Nov day: 1500 uncached, 200 cache read, 500 + 1000 cache writes, 500 output. 7 a page.
* OpenRouter: key usage_daily 1.5, limit 100, limit_remaining 74.5; credits 100.5 − 25.75;
  activity Nov 1–21 $1.00 + $0.20 a day, Oct 23–31 $0.50 a day.
* Moonshot: available 49.58894. DeepSeek: CNY "110.00" and USD "5.50".
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.providers import fakes
from tokendash.app import App
from tokendash.config.settings import load_settings

NOW = int(datetime(2026, 11, 22, 12, tzinfo=UTC).timestamp() * 1000)
HOUR = 3_600_000
DAY_MS = 86_400_000

# Sentinel keys: long enough to be unmistakable in a grep, shaped like the real ones.
KEYS = {
    "OPENAI_ADMIN_KEY": "sk-admin-SENTINELopenai0000000000000000000000001",
    "ANTHROPIC_ADMIN_KEY": "sk-ant-admin01-SENTINELanthropic00000000000000002",
    "OPENROUTER_API_KEY": "sk-or-v1-SENTINELopenrouter000000000000000000003",
    "OPENROUTER_MANAGEMENT_KEY": "sk-or-v1-SENTINELmanagement000000000000000000004",
    "MOONSHOT_API_KEY": "sk-SENTINELmoonshot0000000000000000000000000005",
    "DEEPSEEK_API_KEY": "sk-SENTINELdeepseek0000000000000000000000000006",
}


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def openai_data() -> fakes.OpenAIData:
    d = fakes.OpenAIData(KEYS["OPENAI_ADMIN_KEY"])
    for day in days(date(2026, 11, 1), date(2026, 11, 22)):
        if day != date(2026, 11, 10):
            d.costs[day] = [("gpt-4o-mini-2024-07-18, input", 0.75), ("gpt-4o-mini-2024-07-18, output", 0.5)]
        d.completions[day] = [{"input_tokens": 1000, "input_cached_tokens": 400, "input_cache_write_tokens": 100,
                               "input_uncached_tokens": 500, "output_tokens": 500, "num_model_requests": 5,
                               "model": "gpt-4o-mini-2024-07-18", "batch": None, "service_tier": None}]
        d.embeddings[day] = [{"input_tokens": 16, "num_model_requests": 2, "model": "text-embedding-3-small"}]
    for day in days(date(2026, 10, 22), date(2026, 10, 31)):
        d.costs[day] = [("gpt-4o-2024-08-06, input", 2.0)]
    return d


def anthropic_data() -> fakes.AnthropicData:
    d = fakes.AnthropicData(KEYS["ANTHROPIC_ADMIN_KEY"])
    for day in days(date(2026, 11, 1), date(2026, 11, 22)):
        d.costs[day] = [("claude-sonnet-4-5", "uncached_input_tokens", "123.78912"), ("claude-sonnet-4-5", "output_tokens", "76.2")]
        d.usage[day] = [{"uncached_input_tokens": 1500, "cache_creation": {"ephemeral_1h_input_tokens": 1000, "ephemeral_5m_input_tokens": 500},
                         "cache_read_input_tokens": 200, "output_tokens": 500, "model": "claude-sonnet-4-5"}]
    for day in days(date(2026, 10, 22), date(2026, 10, 31)):
        d.costs[day] = [("claude-opus-4-1", "output_tokens", "500")]
    return d


def openrouter_data() -> fakes.OpenRouterData:
    d = fakes.OpenRouterData(KEYS["OPENROUTER_API_KEY"], KEYS["OPENROUTER_MANAGEMENT_KEY"])
    d.key = {"byok_usage": 0, "byok_usage_daily": 0, "byok_usage_monthly": 0, "byok_usage_weekly": 0,
             "expires_at": None, "include_byok_in_limit": False, "is_free_tier": False, "limit": 100,
             "limit_remaining": 74.5, "limit_reset": "monthly",
             "rate_limit": {"interval": "1h", "note": "This field is deprecated and safe to ignore.", "requests": 1000},
             "usage": 25.5, "usage_daily": 1.5, "usage_weekly": 9.0, "usage_monthly": 25.5}
    row = {"byok_usage_inference": 0, "endpoint_id": "550e8400-e29b-41d4-a716-446655440000",
           "model_permaslug": "openai/gpt-4.1-2025-04-14", "provider_name": "OpenAI"}
    for day in days(date(2026, 11, 1), date(2026, 11, 21)):
        d.activity.append({**row, "date": day.isoformat(), "model": "openai/gpt-4.1", "usage": 1.0, "prompt_tokens": 50,
                           "completion_tokens": 125, "reasoning_tokens": 25, "requests": 5})
        d.activity.append({**row, "date": day.isoformat(), "model": "anthropic/claude-sonnet-4.5", "provider_name": "Anthropic",
                           "usage": 0.2, "prompt_tokens": 10, "completion_tokens": 20, "reasoning_tokens": 0, "requests": 1})
    for day in days(date(2026, 10, 23), date(2026, 10, 31)):
        d.activity.append({**row, "date": day.isoformat(), "model": "openai/gpt-4.1", "usage": 0.5, "prompt_tokens": 5,
                           "completion_tokens": 5, "reasoning_tokens": 0, "requests": 1})
    return d


def deepseek_body(cny: str = "110.00", usd: str = "5.50") -> dict[str, Any]:
    return {"is_available": True, "balance_infos": [
        {"currency": "CNY", "total_balance": cny, "granted_balance": "10.00", "topped_up_balance": "100.00"},
        {"currency": "USD", "total_balance": usd, "granted_balance": "0.00", "topped_up_balance": usd},
    ]}


@dataclass
class World:
    tmp: Path
    servers: dict[str, fakes.FakeServer]
    data: dict[str, Any]
    env: dict[str, str] = field(default_factory=dict)

    def base_urls(self) -> dict[str, str]:
        s = self.servers
        return {
            "openai_base_url": s["openai"].url("/v1"),
            "anthropic_base_url": s["anthropic"].url(""),
            "openrouter_base_url": s["openrouter"].url("/api/v1"),
            "moonshot_base_url": s["moonshot"].url("/v1"),
            "deepseek_base_url": s["deepseek"].url(""),
        }

    def settings_kwargs(self, **over: Any) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "home": self.tmp / "home",
            "database_url": f"sqlite:///{self.tmp / 'home' / 'tokendash.db'}",
            "openclaw_state_dir": str(self.tmp / "openclaw"),
            "timezone": "UTC",
            "fx": {"CNY": 0.14},
            "provider_read_timeout_seconds": 0.5,
            "provider_connect_timeout_seconds": 0.5,
            "provider_poll_timeout_seconds": 10,
            "provider_max_retries": 1,
            "provider_backoff_seconds": 0.01,
            "provider_backoff_cap_seconds": 0.05,
            "provider_max_retry_after_seconds": 5,
            **self.base_urls(),
        }
        kw.update(over)
        return kw

    def app(self, **over: Any) -> App:
        return App(load_settings(**self.settings_kwargs(**over)))

    def requests(self) -> dict[str, int]:
        return {k: len(s.seen) for k, s in self.servers.items()}


@contextmanager
def make_world(tmp: Path, mp: pytest.MonkeyPatch) -> Iterator[World]:
    """Five fake providers and an environment holding only their sentinel keys."""
    for k in list(os.environ):
        if k.startswith("TOKENDASH_") or k in KEYS or k in ("OPENCLAW_STATE_DIR", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                                                             "http_proxy", "https_proxy", "all_proxy"):
            mp.delenv(k)
    mp.setenv("TOKENDASH_HOME", str(tmp / "home"))
    (tmp / "openclaw").mkdir(exist_ok=True)
    for k, v in KEYS.items():
        mp.setenv(k, v)
    data = {
        "openai": openai_data(),
        "anthropic": anthropic_data(),
        "openrouter": openrouter_data(),
        "moonshot": fakes.BalanceData(KEYS["MOONSHOT_API_KEY"], fakes.moonshot_body(49.58894, 46.58893, 3.00001), "/v1/users/me/balance"),
        "deepseek": fakes.BalanceData(KEYS["DEEPSEEK_API_KEY"], deepseek_body(), "/user/balance"),
    }
    servers = {
        "openai": fakes.FakeServer(fakes.openai_app(data["openai"])),
        "anthropic": fakes.FakeServer(fakes.anthropic_app(data["anthropic"])),
        "openrouter": fakes.FakeServer(fakes.openrouter_app(data["openrouter"])),
        "moonshot": fakes.FakeServer(fakes.balance_app(data["moonshot"], fakes.MOONSHOT_401)),
        "deepseek": fakes.FakeServer(fakes.balance_app(data["deepseek"], fakes.DEEPSEEK_401)),
    }
    try:
        yield World(tmp, servers, data, dict(KEYS))
    finally:
        for s in servers.values():
            s.close()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with make_world(tmp_path, monkeypatch) as w:
        yield w
