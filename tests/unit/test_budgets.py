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


# -- on a generated corpus -------------------------------------------------------------------------
# Claude Code logs from the corpus generator plus seeded records from other agents and providers, in
# Asia/Kolkata (UTC+05:30, so local midnight is 18:30 UTC), evaluated at three moments: just after a
# local midnight that starts a week, late on a Friday, and ten minutes into a month. The expected
# figures are computed here from the stored events with zoneinfo and plain arithmetic.

KOLKATA = "Asia/Kolkata"
MOMENTS = ["2026-11-22T18:50:00", "2026-11-20T18:20:00", "2026-11-30T18:40:00"]  # UTC
FACTORS = [0.5, 0.8, 0.95, 1.25]  # spent / limit: ok, warning, critical, exceeded


def _generated_records(seed: int = 9) -> list[UsageEvent]:
    import random

    rng = random.Random(seed)
    start = ms("2026-10-25T00:00:00")
    out = []
    for i in range(600):
        ts = start + rng.randrange(37 * 86_400_000)
        out.append(UsageEvent("record", f"g{i}", ts, rng.choice(["openai", "deepseek", "anthropic"]), "m", input=100,
                              agent=rng.choice(["main", "bot", None]), project=rng.choice(["site", "api", None]),
                              reported_cost_usd=Decimal(str(round(rng.uniform(0.01, 3.0), 4)))))
    return out


def _expected(rows: list[tuple], now: int, period: str, scope: dict[str, str]) -> tuple[float, int, int, str, str]:
    """(spent, period start ms, period end ms, first day, last day) by hand."""
    from datetime import date, timedelta
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(KOLKATA)
    today = datetime.fromtimestamp(now / 1000, tz).date()
    if period == "daily":
        first, last = today, today
    elif period == "weekly":
        first = today - timedelta(days=today.weekday())
        last = first + timedelta(days=6)
    else:
        first = today.replace(day=1)
        last = date(today.year + (today.month == 12), today.month % 12 + 1, 1) - timedelta(days=1)

    def midnight(d: date) -> int:
        return int(datetime(d.year, d.month, d.day, tzinfo=tz).timestamp() * 1000)

    spent = sum(cost for ts, provider, agent, project, cost in rows
                if first <= datetime.fromtimestamp(ts / 1000, tz).date() <= last and ts <= now
                and all({"provider": provider, "agent": agent, "project": project}[k] == v for k, v in scope.items()))
    return spent, midnight(first), midnight(last + timedelta(days=1)), first.isoformat(), last.isoformat()


def test_budgets_on_a_generated_corpus(tmp_path: Path) -> None:
    from tests.support import gen_corpus

    claude = tmp_path / "claude"
    gen_corpus(claude, files=40, assistant_lines=4000, days=45, end_date="2026-11-30", seed=21)
    base = make_app(tmp_path, claude=claude, timezone=KOLKATA)
    from tokendash.ingest import ingest

    (res,) = ingest(base.store, base.prices, base.sources(["claude-code"]))
    assert res.ok and res.events_written > 1000
    recs = _generated_records()
    base.store.write_batch("record", [(e, base.prices.price(e)) for e in recs])
    with base.reader() as conn:
        rows = [(ts, p, a, pr, c / 1e9) for ts, p, a, pr, c in conn.all(
            "SELECT ts_ms, provider, agent, project, cost_nusd FROM usage_events WHERE cost_nusd IS NOT NULL")]
        busiest = conn.all("SELECT project FROM usage_events WHERE source = 'claude-code' GROUP BY project "
                           "ORDER BY COUNT(*) DESC LIMIT 1")[0][0]
    scopes = [{}, {"provider": "anthropic"}, {"provider": "openai"}, {"agent": "main"}, {"project": busiest},
              {"project": "site"}]
    states = set()
    for at in MOMENTS:
        now = ms(at)
        budgets, want = [], {}
        for i, (scope, period) in enumerate((s, p) for s in scopes for p in ("daily", "weekly", "monthly")):
            spent, start, end, first, last = _expected(rows, now, period, scope)
            limit = round(spent / FACTORS[i % 4], 2) if spent > 0.05 else 1.0
            pct = spent / limit * 100
            state = "ok" if pct < 75 else "warning" if pct < 90 else "critical" if pct < 100 else "exceeded"
            projected = spent / min(max(now - start, 60_000) / (end - start), 1.0)
            budgets.append({"id": f"b{i}", "period": period, "limit": limit, "scope": scope})
            want[f"b{i}"] = (spent, pct, state, projected, first, last)
        app = make_app(tmp_path, claude=claude, timezone=KOLKATA, budgets=budgets)
        got = {b["id"]: b for b in summary(app, now_ms=now)["budgets"]}
        for bid, (spent, pct, state, projected, first, last) in want.items():
            b = got[bid]
            assert b["spent"] == pytest.approx(spent, rel=1e-9, abs=1e-9), (at, b)
            assert b["percent"] == pytest.approx(pct, rel=1e-9, abs=1e-9) and b["state"] == state, (at, b)
            assert b["projected"] == pytest.approx(projected, rel=1e-9, abs=1e-9), (at, b)
            assert (b["periodStart"], b["periodEnd"]) == (first, last), (at, b)
            states.add(state)
    assert states == {"ok", "warning", "critical", "exceeded"}
    # The boundaries did matter: at 00:20 on Monday the day and the week are twenty minutes old …
    monday = _expected(rows, ms(MOMENTS[0]), "weekly", {})
    assert monday[0] == _expected(rows, ms(MOMENTS[0]), "daily", {})[0] and monday[3] == "2026-11-23"
    # … while a UTC day would be 18 h 50 min old then and hold the local Sunday's 00:00–18:30 UTC spend.
    sunday_evening = sum(c for ts, *_, c in rows if ms("2026-11-22T00:00:00") <= ts < ms("2026-11-22T18:30:00"))
    assert sunday_evening > 0
