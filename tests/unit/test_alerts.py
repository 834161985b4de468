"""Alerts: one per type and scope, first and last seen, resolved by themselves, persisted; the rules'
boundaries on given figures."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.sidecar.harness import make_app
from tests.unit.test_budgets import NOW, ms
from tokendash.alerts import conditions
from tokendash.api.methods import summary
from tokendash.config.settings import AlertThreshold
from tokendash.render.text import render_summary
from tokendash.sources.base import UsageEvent

HOUR = 3_600_000


def _app(tmp: Path, limit: float):  # type: ignore[no-untyped-def]
    return make_app(tmp, timezone="America/New_York",
                    budgets=[{"id": "day", "period": "daily", "limit": limit}])


def test_budget_alert_opens_once_stays_and_resolves(tmp_path: Path) -> None:
    app = _app(tmp_path, 2)
    e = UsageEvent("record", "k", ms("2026-11-22T05:30:00"), "openai", "m", input=1, reported_cost_usd=Decimal("3"))
    app.store.write_batch("record", [(e, app.prices.price(e))])

    (a,) = summary(app, now_ms=NOW)["alerts"]
    assert (a["id"], a["type"], a["severity"], a["state"]) == ("budget:day", "budget", "critical", "open")
    assert a["firstSeen"] == a["lastSeen"] == "2026-11-22T06:00:00.000Z"
    assert "Budget day (daily) at 150 %" in a["message"]
    assert "🔴 Budget day" in render_summary(summary(app, now_ms=NOW))

    again = summary(app, now_ms=NOW + HOUR)["alerts"]  # still over: the same alert, seen again
    assert len(again) == 1 and again[0]["firstSeen"] == a["firstSeen"] and again[0]["lastSeen"] == "2026-11-22T07:00:00.000Z"

    restarted = _app(tmp_path, 2)  # persisted: a new process sees the same alert
    assert summary(restarted, now_ms=NOW + 2 * HOUR)["alerts"][0]["firstSeen"] == a["firstSeen"]

    raised = _app(tmp_path, 100)  # the limit raised: the condition is gone, the alert resolves by itself
    (r,) = summary(raised, now_ms=NOW + 3 * HOUR)["alerts"]
    assert (r["state"], r["timestamp"]) == ("resolved", "2026-11-22T09:00:00.000Z")
    assert "Budget day" not in render_summary(summary(raised, now_ms=NOW + 3 * HOUR))


def test_rules_at_their_boundaries() -> None:
    def provider(pid: str, balance: float | None) -> dict:
        return {"providerId": pid, "name": pid, "currentUsage": {"balanceUsd": balance}}

    s = {
        "providers": [provider("a", 4.99), provider("b", 5.0), provider("c", 10.0), provider("d", 9.99), provider("e", None)],
        "sources": [{"id": "codex", "error": "codex: OSError: denied"}, {"id": "claude-code", "error": None}],
        "budgets": [{"id": "x", "period": "daily", "state": "ok", "percent": 10, "spent": 1, "limit": 10, "currency": "USD"},
                    {"id": "y", "period": "weekly", "state": "warning", "percent": 80, "spent": 8, "limit": 10,
                     "currency": "USD"}],
    }
    t = {p: AlertThreshold(balance_usd=10, daily_spend_usd=25) for p in "abcde"}
    got = {c["id"]: c["severity"] for c in conditions(s, t, {"a": 25.0, "b": 25.01})}
    assert got == {
        "low_balance:a": "critical",  # below half of 10
        "low_balance:b": "warning",  # exactly half: not below it
        "low_balance:d": "warning",  # 9.99 < 10; c at 10.00 is not below
        "high_spend:b": "warning",  # 25.01 > 25; a at 25.00 is not over
        "error:codex": "warning",
        "budget:y": "warning",
    }


def test_alerts_command(tmp_path: Path) -> None:
    import json

    from tests.support import Cli

    cli = Cli(tmp_path)
    assert cli.run("alerts").stdout.strip() == "No open alerts."
    cli.env["TOKENDASH_BUDGETS"] = json.dumps([{"id": "tiny", "period": "monthly", "limit": 0.000001}])
    cli.run("call", "token-dashboard.record", "--params", json.dumps({"events": [
        {"idempotencyKey": "k1", "provider": "openai", "model": "gpt-4o", "input": 10, "costUsd": 1.0}]}))
    out = cli.run("alerts").stdout
    assert "🔴 [budget] Budget tiny (monthly)" in out and "(since " in out
    assert cli.json("alerts", "--json")["alerts"][0]["id"] == "budget:tiny"
