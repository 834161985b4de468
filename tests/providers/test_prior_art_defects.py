"""Each defect of the original Token Dashboard collectors (prior-art §1.10) that belongs to the provider
APIs, reproduced and shown fixed."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

from tests.providers.conftest import NOW, World
from tests.providers.fakes import Fault, Response
from tokendash import providers


def by_id(items: list[dict], key: str = "providerId") -> dict[str, dict]:
    return {i[key]: i for i in items}


def no_nan(value: object) -> bool:
    """True when no float in a JSON-like value is NaN or infinite."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(no_nan(v) for v in value.values())
    if isinstance(value, list):
        return all(no_nan(v) for v in value)
    return True


def test_defect_1_openrouter_credits_shape_gives_a_real_balance_not_nan(world: World) -> None:
    app = world.app()
    providers.poll(app, ["openrouter"], now_ms=NOW)
    st = by_id(providers.provider_statuses(app, NOW))["openrouter"]
    assert st["currentUsage"]["balanceUsd"] == 74.75  # total_credits - total_usage
    b = providers.burn(app, NOW)
    assert b["total"]["totalBalanceUsd"] == 74.75 and no_nan(b) and no_nan(st)


def test_rule_8_a_non_finite_balance_is_null_plus_an_error(world: World) -> None:
    app = world.app()
    providers.poll(app, ["moonshot"], now_ms=NOW - 60_000)
    # Python's JSON (like many servers) accepts the NaN literal: the value must not get through.
    world.servers["moonshot"].app = lambda req: Response(200, b'{"code": 0, "status": true, "scode": "0x0", '
                                                            b'"data": {"available_balance": NaN, "cash_balance": 1}}')
    [res] = providers.poll(app, ["moonshot"], now_ms=NOW)
    assert not res.ok and "available_balance is not finite" in res.error
    st = by_id(providers.provider_statuses(app, NOW))["moonshot"]
    assert st["currentUsage"]["balanceUsd"] is None and st["currentUsage"]["balance"]["amount"] is None
    assert "not finite" in st["error"] and no_nan(st)
    assert by_id(providers.burn(app, NOW)["providers"])["moonshot"]["runwayDays"] is None


def test_defect_2_currencies_are_tagged_and_never_summed_without_a_rate(world: World) -> None:
    app = world.app(fx={})  # no CNY rate
    providers.poll(app, ["deepseek", "openrouter"], now_ms=NOW)
    ds = by_id(providers.provider_statuses(app, NOW))["deepseek"]["currentUsage"]
    assert {(b["currency"], b["amount"], b["amountUsd"]) for b in ds["balances"]} == {("CNY", 110.0, None), ("USD", 5.5, 5.5)}
    assert ds["balanceUsd"] is None  # 110 CNY + 5.5 USD is not 115.5 of anything
    assert providers.burn(app, NOW)["total"]["totalBalanceUsd"] == 74.75  # OpenRouter's only


def test_defect_3_and_4_the_real_admin_endpoints_with_admin_auth(world: World) -> None:
    app = world.app()
    providers.poll(app, ["openai", "anthropic"], now_ms=NOW)
    oa = {r.path for r in world.servers["openai"].seen}
    assert oa == {"/v1/organization/usage/completions", "/v1/organization/usage/embeddings", "/v1/organization/costs",
                  "/v1/organization/spend_limit"}
    an = world.servers["anthropic"].seen
    assert {r.path for r in an} == {"/v1/organizations/usage_report/messages", "/v1/organizations/cost_report"}
    assert all(r.headers["anthropic-version"] == "2023-06-01" and r.headers["x-api-key"].startswith("sk-ant-admin") for r in an)
    assert all(r.headers["authorization"].startswith("Bearer sk-admin-") for r in world.servers["openai"].seen)
    # No balance API: none is shown, rather than a zero.
    st = by_id(providers.provider_statuses(app, NOW))
    assert st["openai"]["currentUsage"]["balance"] is None and st["anthropic"]["currentUsage"]["balanceUsd"] is None


def test_defect_5_a_failed_sub_endpoint_is_visible_and_there_is_no_check_mark(world: World) -> None:
    world.servers["openai"].faults = [Fault("status", 404, {"error": {"message": "no spend limit", "type": "x", "param": None, "code": None}},
                                            path="/v1/organization/spend_limit")]
    app = world.app()
    [res] = providers.poll(app, ["openai"], now_ms=NOW)
    assert not res.ok and res.error == "partial: openai /organization/spend_limit: HTTP 404 not found: no spend limit"
    info = by_id(providers.provider_infos(app, NOW), "id")["openai"]
    assert not info["isReachable"] and info["error"] == res.error
    assert [e["ok"] for e in info["endpoints"]] == [True, True, True, False]
    st = by_id(providers.provider_statuses(app, NOW))["openai"]
    assert st["currentUsage"]["billedCostUsd"] == 26.25 and st["currentUsage"]["costSource"] == "billed"


def test_defect_5_nothing_fetched_is_never_reachable(world: World) -> None:
    app = world.app()
    infos = by_id(providers.provider_infos(app, NOW), "id")  # configured, never polled
    assert all(i["isConfigured"] and not i["isReachable"] and i["lastSuccess"] is None for i in infos.values())


def test_defect_15_no_raw_upstream_body_is_kept_or_returned(world: World) -> None:
    spill = "ceo@example.com"
    world.data["openrouter"].key["billing_email"] = spill
    world.data["openrouter"].credits["billing_email"] = spill
    app = world.app()
    providers.poll(app, now_ms=NOW)
    out = json.dumps([providers.provider_infos(app, NOW), providers.provider_statuses(app, NOW), providers.burn(app, NOW),
                      providers.reconcile(app, NOW)])
    db = Path(app.settings.effective_database_url.removeprefix("sqlite:///")).read_bytes()
    for needle in (spill, "sk-or-v1-SEN", "label", "creator_user_id", "user_2dHFtVWx2n56w6HkM0000000000"):
        assert needle not in out and needle.encode() not in db, needle


def test_defect_16_providers_are_fetched_concurrently(world: World) -> None:
    for p in ("moonshot", "deepseek", "openrouter"):
        world.servers[p].faults = [Fault("slow", delay=1.0, times=1)]
    app = world.app(provider_read_timeout_seconds=3)
    t0 = time.monotonic()
    results = providers.poll(app, now_ms=NOW)
    took = time.monotonic() - t0
    assert all(r.ok for r in results), [r.error for r in results]
    assert took < 2.4, took  # one at a time would take 3 s or more


def test_results_are_plain_json_numbers(world: World) -> None:
    app = world.app()
    providers.poll(app, now_ms=NOW)
    for result in (providers.provider_statuses(app, NOW), providers.burn(app, NOW), providers.reconcile(app, NOW)):
        text = json.dumps(result, allow_nan=False)  # raises on NaN / Infinity
        assert '"NaN"' not in text


@pytest.mark.parametrize("enabled", [["moonshot"], []])
def test_defect_14_enabled_providers_filters_everything(world: World, enabled: list[str]) -> None:
    app = world.app(enabled_providers=enabled)
    results = providers.poll(app, now_ms=NOW)
    assert [r.source for r in results] == enabled
    assert [i["id"] for i in providers.provider_infos(app, NOW)] == enabled
    assert [p["providerId"] for p in providers.provider_statuses(app, NOW)] == enabled
