"""Billed totals, balances, burn and runway from the fake providers equal figures worked out by hand
(the data is described in ``conftest.py``; NOW = 2026-11-22 12:00 UTC)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.providers.conftest import DAY_MS, HOUR, NOW, World, deepseek_body
from tests.providers.fakes import moonshot_body
from tokendash import providers
from tokendash.pricing.prices import Priced
from tokendash.sources.base import UsageEvent

approx = pytest.approx


def by_id(items: list[dict[str, Any]], key: str = "providerId") -> dict[str, dict[str, Any]]:
    return {i[key]: i for i in items}


def test_every_provider_polls_through_several_pages(world: World) -> None:
    app = world.app()
    results = {r.source: r for r in providers.poll(app, now_ms=NOW)}
    assert all(r.ok and r.error is None for r in results.values()), [r.as_dict() for r in results.values()]
    # Oct 22 .. Nov 22 = 32 daily buckets: OpenAI pages by 10 (4 pages x 3 paginated endpoints + spend
    # limit), Anthropic by 7 (5 pages x 2 endpoints); the others have one request per endpoint.
    assert world.requests() == {"openai": 13, "anthropic": 10, "openrouter": 3, "moonshot": 1, "deepseek": 1}
    pages = [r.q("page") for r in world.servers["anthropic"].seen if r.path.endswith("cost_report")]
    assert pages[0] is None and len(set(pages)) == 5
    # The array parameter is sent in the SDKs' bracket form.
    assert world.servers["openai"].seen[0].query["group_by[]"] == ["model"]


def test_billed_totals_today_last_7_days_and_month(world: World) -> None:
    app = world.app()
    providers.poll(app, now_ms=NOW)
    rec = by_id(providers.reconcile(app, NOW)["providers"])
    openai = rec["openai"]["periods"]
    # Nov 22: 0.75 + 0.50; Nov 16..22: 7 x 1.25; Nov 1..22 without the empty Nov 10: 21 x 1.25.
    assert (openai["today"]["billedUsd"], openai["last7Days"]["billedUsd"], openai["month"]["billedUsd"]) == approx((1.25, 8.75, 26.25))
    anth = rec["anthropic"]["periods"]
    # (123.78912 + 76.2) cents = $1.9998912 a day; 7 and 22 days of it. October's $5 days are not in them.
    assert anth["today"]["billedUsd"] == approx(1.9998912)
    assert anth["last7Days"]["billedUsd"] == approx(13.9992384)
    assert anth["month"]["billedUsd"] == approx(43.9976064)
    orr = rec["openrouter"]["periods"]
    # Today from /key usage_daily (1.5); completed days from /activity (1.00 + 0.20 a day).
    assert orr["today"]["billedUsd"] == approx(1.5)
    assert orr["last7Days"]["billedUsd"] == approx(6 * 1.2 + 1.5)  # 8.7
    assert orr["month"]["billedUsd"] == approx(21 * 1.2 + 1.5)  # 26.7
    assert rec["moonshot"]["periods"]["month"]["billedUsd"] is None  # no billing API: never a made-up bill


def test_balances_in_their_own_currency_with_usd_beside(world: World) -> None:
    app = world.app()
    providers.poll(app, now_ms=NOW)
    st = by_id(providers.provider_statuses(app, NOW))
    orr = st["openrouter"]["currentUsage"]
    # total_credits - total_usage = 100.5 - 25.75 (the original plugin's limit - usage gave NaN).
    assert (orr["balanceUsd"], orr["balance"], orr["creditLimitUsd"], orr["limitRemainingUsd"]) == (
        74.75, {"amount": 74.75, "currency": "USD"}, 100.0, 74.5)
    ds = st["deepseek"]["currentUsage"]
    assert {(b["currency"], b["amount"], b["amountUsd"]) for b in ds["balances"]} == {("CNY", 110.0, 15.4), ("USD", 5.5, 5.5)}
    assert ds["balanceUsd"] == approx(110 * 0.14 + 5.5)  # 20.9 through TOKENDASH_FX CNY=0.14
    assert ds["balance"] == {"amount": 5.5, "currency": "USD"}
    ms = st["moonshot"]["currentUsage"]
    assert ms["balance"] == {"amount": 49.58894, "currency": "USD"}  # an .ai-like (not .cn) host: USD
    assert st["openai"]["currentUsage"]["balanceUsd"] is None and st["openai"]["currentUsage"]["creditLimitUsd"] == 100.0
    assert st["anthropic"]["currentUsage"]["balance"] is None
    assert st["openai"]["currentUsage"]["cacheReadTokens"] == 22 * 400
    assert st["openai"]["currentUsage"]["inputTokens"] == 22 * (1000 - 400 - 100) + 22 * 16
    assert st["anthropic"]["currentUsage"]["cacheWriteTokens"] == 22 * 1500
    assert all(p["isReachable"] and p["error"] is None and not p["stale"] for p in st.values())


def test_moonshot_currency_follows_the_setting_and_converts(world: World) -> None:
    app = world.app(moonshot_currency="CNY")
    providers.poll(app, ["moonshot"], now_ms=NOW)
    ms = by_id(providers.provider_statuses(app, NOW))["moonshot"]["currentUsage"]
    assert ms["balance"] == {"amount": 49.58894, "currency": "CNY"}
    assert ms["balanceUsd"] == approx(49.58894 * 0.14)


def test_moonshot_cn_host_means_cny(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # api.moonshot.cn reached through an HTTP proxy that is the fake itself: the host decides the currency.
    fake = world.servers["moonshot"]
    monkeypatch.setenv("HTTP_PROXY", fake.url())
    app = world.app(moonshot_base_url="http://api.moonshot.cn/v1")
    [res] = providers.poll(app, ["moonshot"], now_ms=NOW)
    assert res.ok, res.error
    assert fake.seen[-1].host == "api.moonshot.cn"
    ms = by_id(providers.provider_statuses(app, NOW))["moonshot"]["currentUsage"]
    assert ms["balance"] == {"amount": 49.58894, "currency": "CNY"}


def test_burn_rate_runway_and_month_end_projection(world: World) -> None:
    app = world.app()
    # Balance history for the balance-only providers: two days of readings before NOW.
    world.data["moonshot"].body = moonshot_body(60.0, 57.0, 3.0)
    world.data["deepseek"].body = deepseek_body("120.00", "6.00")
    providers.poll(app, ["moonshot", "deepseek"], now_ms=NOW - 48 * HOUR)
    world.data["moonshot"].body = moonshot_body(55.0, 52.0, 3.0)
    world.data["deepseek"].body = deepseek_body("110.00", "5.50")
    providers.poll(app, ["moonshot", "deepseek"], now_ms=NOW - 24 * HOUR)
    world.data["moonshot"].body = moonshot_body(49.58894, 46.58893, 3.00001)
    providers.poll(app, now_ms=NOW)
    b = providers.burn(app, NOW)
    p = by_id(b["providers"])

    # OpenAI, billed: trailing 7 d = half of Nov 15 (0.625) + Nov 16..21 (7.5) + all of today (1.25).
    assert p["openai"]["basis"] == "billed"
    assert p["openai"]["costPerDay"] == approx(9.375 / 7, abs=1e-6)
    assert p["openai"]["costPerHour"] == approx((0.625 + 1.25) / 24, abs=1e-6)  # trailing 24 h
    assert p["openai"]["runwayDays"] is None  # no balance API: no runway
    # Month to date 26.25; 8 days and 12 hours left in November.
    assert p["openai"]["projectedMonthEndUsd"] == approx(26.25 + 9.375 / 7 * 8.5, abs=1e-5)

    # OpenRouter: 0.6 (half Nov 15) + 6 x 1.2 + 1.5 today = 9.3 a week; balance 74.75.
    orr = p["openrouter"]
    assert orr["costPerDay"] == approx(9.3 / 7, abs=1e-6)
    assert orr["runwayDays"] == approx(74.75 / (9.3 / 7), abs=1e-3)
    assert orr["runwayHours"] == approx(74.75 / (9.3 / 7) * 24, abs=1e-2)

    # Moonshot, balance only: 60 -> 55 -> 49.58894 over two days = 10.41106 / 2 a day.
    ms = p["moonshot"]
    assert ms["basis"] == "balance"
    assert ms["costPerDay"] == approx(10.41106 / 2, abs=1e-6)
    assert ms["runwayDays"] == approx(49.58894 / (10.41106 / 2), abs=1e-3)
    # DeepSeek: CNY 120 -> 110 (and no reading at NOW-0: 110 again), USD 6.00 -> 5.50 -> 5.50.
    ds = p["deepseek"]
    per_day = 10 * 0.14 / 2 + 0.5 / 2  # falls over the 48 h the readings span
    assert ds["costPerDay"] == approx(per_day, abs=1e-6)
    assert ds["runwayDays"] == approx((110 * 0.14 + 5.5) / per_day, abs=1e-3)

    total = b["total"]
    held = 74.75 + 49.58894 + (110 * 0.14 + 5.5)
    held_per_day = 9.3 / 7 + 10.41106 / 2 + per_day
    assert total["runwayDays"] == approx(held / held_per_day, abs=1e-3)
    assert total["costPerDay"] == approx(9.375 / 7 + 2.1427406 + 9.3 / 7 + 10.41106 / 2 + per_day, abs=1e-5)
    assert total["totalBalanceUsd"] == approx(held)


def test_reconciliation_reports_both_figures_and_the_gap_never_the_sum(world: World) -> None:
    app = world.app(sources={"claude-code": {"billing": "subscription"}})
    # Local attribution: $1.50 of Anthropic today from OpenClaw logs, and $9 from Claude Code on a
    # subscription, which is not spend (SPEC §5 rule 7).
    events = [
        (UsageEvent("openclaw", "a1", NOW - HOUR, "anthropic", "claude-sonnet-4-5", input=10), Priced(1_500_000_000, "estimated")),
        (UsageEvent("openai-local", "o1", NOW - 3 * DAY_MS, "openai", "gpt-4o-mini", input=10), Priced(2_000_000_000, "estimated")),
    ]
    app.store.write_batch("openclaw", events[:1])
    app.store.write_batch("openai-local", events[1:])
    app.store.write_batch("claude-code", [(UsageEvent("claude-code", "c1", NOW - HOUR, "anthropic", "claude-opus-4-5", input=5),
                                           Priced(9_000_000_000, "estimated"))])
    providers.poll(app, now_ms=NOW)
    rec = by_id(providers.reconcile(app, NOW)["providers"])
    today = rec["anthropic"]["periods"]["today"]
    assert (today["billedUsd"], today["estimatedUsd"]) == (approx(1.9998912), approx(1.5))
    assert today["differenceUsd"] == approx(0.4998912)
    assert today["differencePercent"] == approx(0.4998912 / 1.5 * 100, abs=1e-3)
    assert (today["spendUsd"], today["spendBasis"]) == (approx(1.9998912), "billed")  # not 3.4998912
    week = rec["openai"]["periods"]["last7Days"]
    assert (week["billedUsd"], week["estimatedUsd"], week["differenceUsd"]) == (approx(8.75), approx(2.0), approx(6.75))
    st = by_id(providers.provider_statuses(app, NOW))["anthropic"]["currentUsage"]
    assert (st["costUsd"], st["billedCostUsd"], st["estimatedCostUsd"], st["costSource"]) == (
        approx(43.9976064), approx(43.9976064), approx(1.5), "billed")


def test_stale_billing_falls_back_to_local_estimates(world: World) -> None:
    app = world.app(poll_interval_minutes=15)
    app.store.write_batch("openclaw", [(UsageEvent("openclaw", "a1", NOW - HOUR, "anthropic", "m", input=1),
                                        Priced(1_500_000_000, "estimated"))])
    providers.poll(app, ["anthropic"], now_ms=NOW - 2 * HOUR)  # older than 2 intervals + 5 min grace
    rec = by_id(providers.reconcile(app, NOW)["providers"])["anthropic"]
    assert rec["stale"] and not rec["billingFresh"]
    today = rec["periods"]["today"]
    assert (today["spendUsd"], today["spendBasis"], today["billedUsd"]) == (approx(1.5), "estimated", approx(1.9998912))


def test_openrouter_without_management_key_has_no_account_balance(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENROUTER_MANAGEMENT_KEY")
    app = world.app()
    [res] = providers.poll(app, ["openrouter"], now_ms=NOW)
    assert res.ok and [e["endpoint"] for e in res.endpoints] == ["key"]
    assert all(r.path == "/api/v1/key" for r in world.servers["openrouter"].seen)
    info = by_id(providers.provider_infos(app, NOW), "id")["openrouter"]
    assert info["capabilities"] == ["usage", "cost"]
    u = by_id(providers.provider_statuses(app, NOW))["openrouter"]
    assert u["currentUsage"]["balanceUsd"] is None and u["currentUsage"]["limitRemainingUsd"] == 74.5
    # Runway on what the key may still spend: 74.5 over today's 1.5 spread on 7 days.
    assert u["burnRate"]["runwayDays"] == approx(74.5 / (1.5 / 7), abs=1e-3)


def test_a_key_that_is_not_a_management_key_gets_a_visible_403(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", world.env["OPENROUTER_API_KEY"])  # an ordinary key
    app = world.app()
    [res] = providers.poll(app, ["openrouter"], now_ms=NOW)
    assert not res.ok
    assert "openrouter /credits, /activity: HTTP 403" in res.error and "Only management keys" in res.error
    assert res.error.startswith("partial: ")
    st = by_id(providers.provider_statuses(app, NOW))["openrouter"]
    # /key answered, /credits and /activity did not: figures from /key, but no ✅ and the error shows.
    assert not st["isReachable"] and "403" in st["error"]
    assert st["currentUsage"]["balanceUsd"] is None and st["currentUsage"]["billedCostUsd"] == approx(1.5)


def test_a_corrected_report_replaces_the_stored_one(world: World) -> None:
    app = world.app()
    providers.poll(app, ["openai"], now_ms=NOW)
    from datetime import date

    world.data["openai"].costs[date(2026, 11, 22)] = [("gpt-4o-mini-2024-07-18, input", 3.0)]
    providers.poll(app, ["openai"], now_ms=NOW + 60_000)
    today = by_id(providers.reconcile(app, NOW + 60_000)["providers"])["openai"]["periods"]["today"]
    assert today["billedUsd"] == approx(3.0)  # the vanished output line item does not linger


def test_provider_infos_show_key_hints_capabilities_and_last_success(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_ADMIN_KEY")
    app = world.app(enabled_providers=["openai", "anthropic", "deepseek"])
    providers.poll(app, now_ms=NOW)
    infos = by_id(providers.provider_infos(app, NOW), "id")
    assert list(infos) == ["openai", "anthropic", "deepseek"]  # enabledProviders is honoured
    assert infos["openai"]["keyHint"] == "sk-…0001" and infos["openai"]["capabilities"] == ["usage", "cost"]
    assert infos["openai"]["lastSuccess"] == "2026-11-22T12:00:00.000Z" and infos["openai"]["isReachable"]
    assert infos["anthropic"] == {
        "id": "anthropic", "name": "Anthropic", "kind": "api", "isConfigured": False, "isReachable": False,
        "capabilities": [], "keyHint": None, "lastChecked": None, "lastSuccess": None, "error": None,
        "stale": False, "endpoints": [],
    }
    assert infos["deepseek"]["capabilities"] == ["balance"]


def test_local_usage_of_a_provider_without_a_billing_key_still_burns(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_ADMIN_KEY")
    app = world.app()
    # $0.70 of Claude on each of the last 7 days, from local logs only.
    app.store.write_batch("openclaw", [
        (UsageEvent("openclaw", f"e{i}", NOW - i * DAY_MS - HOUR, "anthropic", "claude-sonnet-4-5", input=10), Priced(700_000_000, "estimated"))
        for i in range(7)
    ])
    b = by_id(providers.burn(app, NOW)["providers"])["anthropic"]
    assert (b["basis"], b["costPerDay"], b["runwayDays"]) == ("estimated", approx(0.7), None)
    st = by_id(providers.provider_statuses(app, NOW))["anthropic"]
    assert not st["isConfigured"] and st["currentUsage"]["costSource"] == "estimated"
    assert st["currentUsage"]["costUsd"] == approx(0.7 * 7) and st["currentUsage"]["billedCostUsd"] is None


def test_balance_history_is_kept_for_the_retention_period(world: World) -> None:
    from tokendash.store import providers as pstore

    app = world.app(history_retention_days=3)
    for days_ago in (5, 2, 0):
        providers.poll(app, ["deepseek"], now_ms=NOW - days_ago * DAY_MS)
    kept = {(NOW - r.ts_ms) // DAY_MS for r in pstore.balances(app.store.engine, "deepseek")}
    assert kept == {2, 0}  # the 5-day-old readings are gone, both currencies of the others stay
    assert len(pstore.balances(app.store.engine, "deepseek")) == 4


def test_total_balance_counts_every_balance_and_runway_only_the_ones_being_spent() -> None:
    from tokendash.providers.views import total_burn

    def rate(pid: str, per_day: float | None) -> dict[str, Any]:
        return {"providerId": pid, "tokensPerHour": 1.0, "tokensPerDay": 24.0, "costPerHour": (per_day or 0) / 24,
                "costPerDay": per_day, "monthToDateUsd": 10.0, "projectedMonthEndUsd": 20.0}

    t = total_burn([rate("a", 2.0), rate("b", 0.0), rate("c", 3.0), rate("d", None)],
                   {"a": 40.0, "b": 100.0, "c": None, "d": 5.0})
    assert t["totalBalanceUsd"] == 145.0  # a + b + d; c's balance is unknown
    assert t["runwayDays"] == 20.0  # only a holds money and is spent: 40 / 2
    assert t["costPerDay"] == 5.0 and t["monthToDateUsd"] == 40.0
