"""Budgets against hand-computed figures: per scope and period, in a non-UTC zone, across a local day
boundary that is not the UTC one; and ``budget.check`` naming the budget and when it resets."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.sidecar.harness import make_app
from tokendash.api.context import LocalContext
from tokendash.api.methods import budget_check, summary
from tokendash.sources.base import UsageEvent


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp() * 1000)


# 2026-11-22 06:00 UTC is 01:00 on Sunday 22 November in New York (UTC-5): "today" there began at 05:00 UTC.
NOW = ms("2026-11-22T06:00:00")
EVENTS = [  # (when, provider, agent, cost USD)
    ("2026-11-22T04:30:00", "anthropic", "main", "2"),  # 23:30 on the 21st locally (UTC says the 22nd)
    ("2026-11-22T05:30:00", "openai", "main", "3"),  # 00:30 on the 22nd locally: today
    ("2026-11-15T12:00:00", "anthropic", "bot", "4"),  # Sunday of the week before, same month
    ("2026-10-31T12:00:00", "anthropic", "main", "100"),  # last month
]
BUDGETS = [
    {"id": "day", "period": "daily", "limit": 4},
    {"id": "week-main", "period": "weekly", "limit": 10, "scope": {"agent": "main"}},
    {"id": "month-anthropic", "period": "monthly", "limit": 6, "scope": {"provider": "anthropic"}},
    {"id": "month-eur", "period": "monthly", "limit": 50},
]


@pytest.fixture
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    a = make_app(tmp_path, timezone="America/New_York", budgets=BUDGETS)
    events = [
        UsageEvent("record", f"k{i}", ms(t), p, "m", input=1000, agent=agent, reported_cost_usd=Decimal(c))
        for i, (t, p, agent, c) in enumerate(EVENTS)
    ]
    a.store.write_batch("record", [(e, a.prices.price(e)) for e in events])
    return a


def test_budget_figures_and_states(app) -> None:  # type: ignore[no-untyped-def]
    b = {x["id"]: x for x in summary(app, now_ms=NOW)["budgets"]}
    # Daily: only the 00:30 call is today in New York; one hour of 24 gone, so the pace projects 24x.
    assert (b["day"]["spent"], b["day"]["state"], b["day"]["periodStart"]) == (3.0, "warning", "2026-11-22")
    assert b["day"]["percent"] == pytest.approx(75.0) and b["day"]["projected"] == pytest.approx(72.0)
    # Weekly from Monday 16th: both of main's calls this week (2 + 3), not bot's.
    assert (b["week-main"]["spent"], b["week-main"]["state"]) == (5.0, "ok")
    assert (b["week-main"]["periodStart"], b["week-main"]["periodEnd"]) == ("2026-11-16", "2026-11-22")
    # Monthly, Anthropic only: 2 + 4; October's 100 is another month.
    assert (b["month-anthropic"]["spent"], b["month-anthropic"]["state"]) == (6.0, "exceeded")
    assert b["month-anthropic"]["scope"] == {"provider": "anthropic"}


def test_limits_in_the_display_currency(tmp_path: Path) -> None:
    a = make_app(tmp_path, timezone="America/New_York", budgets=BUDGETS[3:], currency="EUR", fx={"EUR": 1.25})
    e = UsageEvent("record", "k", ms("2026-11-20T12:00:00"), "openai", "m", input=1, reported_cost_usd=Decimal("10"))
    a.store.write_batch("record", [(e, a.prices.price(e))])
    (b,) = summary(a, now_ms=NOW)["budgets"]
    assert (b["spent"], b["currency"], b["percent"]) == (8.0, "EUR", 16.0)  # 10 USD = 8 EUR of 50


def test_budget_check_names_the_budget_and_its_reset(app) -> None:  # type: ignore[no-untyped-def]
    ctx = LocalContext(app)
    ctx._summary = summary(app, now_ms=NOW)
    out = budget_check(ctx, {"agentId": "main", "provider": "anthropic"})
    assert out["state"] == "exceeded" and set(out["budgetIds"]) == {"day", "week-main", "month-anthropic", "month-eur"}
    assert "month-anthropic" in out["reason"] and "resets on 2026-12-01" in out["reason"]
    assert out["allow"]  # enforcement mode "warn" (the default) lets the run through
    other = budget_check(ctx, {"agentId": "bot", "provider": "openai"})
    assert other["state"] == "warning" and set(other["budgetIds"]) == {"day", "month-eur"}


def test_budgets_command(tmp_path: Path) -> None:
    import json

    from tests.support import Cli

    cli = Cli(tmp_path)
    assert "No budgets configured" in cli.run("budgets").stdout
    cli.env["TOKENDASH_BUDGETS"] = json.dumps(BUDGETS[:1])
    out = cli.run("budgets").stdout
    assert "day (daily, everything): 0.00 of 4.00 USD = 0 %, ok" in out
    assert cli.json("budgets", "--json")["budgets"][0]["limit"] == 4
