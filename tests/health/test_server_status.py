"""``server-status``: this month's telemetry from a real store in the display currency, budgets from
the configuration, the proto as the schema of the JSON, and the text layout against a golden file."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.json_format import ParseDict

from tests.health import seed
from tests.health.fakes import dead_port
from tokendash.api._pb import health_pb2
from tokendash.config.settings import HealthThresholds
from tokendash.errors import ConfigError
from tokendash.health import collect_health, server_status
from tokendash.health.budgets import budget_state, period_bounds
from tokendash.health.collect import assess
from tokendash.health.text import render_health, render_server_status

GOLDEN = Path(__file__).parent / "golden"
GIB = 1024**3


def fixed_health() -> dict[str, Any]:
    """Given readings: RAM above the caution line, everything else fine, all three services up."""
    h: dict[str, Any] = {
        "timestamp": "2026-11-22T14:00:00Z",
        "ram": {"percent": 78.4, "usedBytes": 12 * GIB + GIB // 2, "totalBytes": 16 * GIB, "availableBytes": 3 * GIB + GIB // 2},
        "swap": {"percent": 12.5, "usedBytes": GIB // 4, "totalBytes": 2 * GIB},
        "cpu": {"load1": 1.23, "load5": 0.98, "load15": 0.75, "percent": 17.5, "cores": 8, "physicalCores": 4},
        "disks": [
            {"mountpoint": "/", "roles": ["root"], "percent": 61.0, "usedBytes": 280 * GIB, "totalBytes": 460 * GIB, "freeBytes": 180 * GIB},
            {"mountpoint": "/srv", "roles": ["state"], "percent": 12.0, "usedBytes": 120 * GIB, "totalBytes": 1000 * GIB, "freeBytes": 880 * GIB},
        ],
        "temperatures": [
            {"sensor": "coretemp", "label": "Package id 0", "celsius": 48.0, "high": 80.0, "critical": 100.0},
            {"sensor": "nvme", "label": "Composite", "celsius": 39.9},
        ],
        "uptimeSeconds": 3 * 86400 + 4 * 3600 + 12 * 60 + 5,
        "bootTime": "2026-11-19T09:47:55Z",
        "sidecar": {"pid": 4242, "rssBytes": 85 * 1024**2, "vmsBytes": 400 * 1024**2, "threads": 6, "uptimeSeconds": 3600.0},
        "services": [
            {"name": "ollama", "url": "http://127.0.0.1:11434", "configured": False, "ok": True, "latencyMs": 3.2,
             "ollama": {"modelCount": 2, "totalSizeBytes": 8021889136,
                        "models": [{"name": "qwen2.5-coder:7b", "sizeBytes": 4683087332, "family": "qwen2", "parameterSize": "7.6B", "quantizationLevel": "Q4_K_M"},
                                   {"name": "gemma3", "sizeBytes": 3338801804, "family": "gemma", "parameterSize": "4.3B", "quantizationLevel": "Q4_K_M"}],
                        "loadedCount": 1, "loadedSizeBytes": 6591830464,
                        "loaded": [{"name": "gemma3", "sizeBytes": 6591830464, "sizeVramBytes": 5333539264, "expiresAt": "2025-10-17T16:47:07.93355-07:00"}]}},
            {"name": "chromadb", "url": "http://127.0.0.1:8000", "configured": True, "ok": True, "latencyMs": 4.0,
             "chromadb": {"heartbeatNs": 1763845200123456789, "collectionCount": 7}},
            {"name": "gateway", "url": "http://127.0.0.1:18789", "configured": True, "ok": True, "latencyMs": 12.0,
             "gateway": {"status": "live"}},
        ],
    }
    return assess(h, HealthThresholds(), "/srv/tokendash")


@pytest.fixture
def seeded(make_app: Callable[..., Any]) -> Any:
    app = make_app(**seed.SETTINGS)
    seed.seed(app.store)
    return app


def test_month_telemetry_in_euros_from_the_store(seeded: Any) -> None:
    r = server_status(seeded, seed.NOW, health=fixed_health())
    assert (r["period"], r["timezone"], r["currency"], r["usdPerUnit"]) == ("2026-11", "Europe/Amsterdam", "EUR", 1.25)
    assert r["month"]["costUsd"] == pytest.approx(seed.MONTH_USD)
    assert r["month"]["tokens"]["total"] == seed.MONTH_TOKENS
    assert r["month"]["unpricedTokens"] == 1000 and r["month"]["requests"] == 7
    assert r["subscriptionCostUsd"] == pytest.approx(seed.SUBSCRIPTION_USD)
    provs = {p["provider"]: p for p in r["byProvider"]}
    assert [p["provider"] for p in r["byProvider"]] == ["anthropic", "openrouter", "openai", "ollama"]
    assert provs["anthropic"]["costUsd"] == pytest.approx(16.0) and provs["anthropic"]["tokens"]["total"] == 13900
    assert provs["openrouter"]["costUsd"] == pytest.approx(2.5) and provs["openrouter"]["unpricedTokens"] == 1000
    assert provs["openai"]["costUsd"] == 0.0 and provs["openai"]["tokens"]["total"] == 142000  # subscription
    models = [(m["provider"], m["model"], round(m["costUsd"], 2)) for m in r["byModel"]]
    assert models[:3] == [("anthropic", "claude-sonnet-4-5", 11.0), ("anthropic", "claude-opus-4-1", 5.0),
                          ("openrouter", "moonshotai/kimi-k2", 2.5)]
    # The timeline: the last three local days and two weeks, hand-summed from seed.EVENTS.
    assert [(d["date"], d["tokens"]["total"], round(d["costUsd"], 2)) for d in r["recentDays"]] == [
        ("2026-11-20", 142000, 0.0), ("2026-11-21", 0, 0.0), ("2026-11-22", 13500, 10.0)]
    assert [(w["week"], w["tokens"]["total"], round(w["costUsd"], 2), w["unpricedTokens"]) for w in r["recentWeeks"]] == [
        ("2026-11-09", 8000, 2.5, 1000), ("2026-11-16", 155500, 10.0, 0)]
    text = render_server_status(r)
    assert "Cost:      €14.80" in text  # 18.50 USD / 1.25
    assert "anthropic       | €   12.80  |        13,900 tokens" in text  # 16.00 / 1.25


def test_budgets_come_from_the_configuration(seeded: Any) -> None:
    r = server_status(seeded, seed.NOW, health=fixed_health())
    b = {x["id"]: x for x in r["budgets"]}
    assert b["monthly-all"]["spent"] == pytest.approx(14.8) and b["monthly-all"]["percent"] == pytest.approx(74.0)
    assert b["monthly-all"]["state"] == "ok" and r["budgetRemaining"] == pytest.approx(5.2)
    assert (b["monthly-all"]["periodStart"], b["monthly-all"]["periodEnd"]) == ("2026-11-01", "2026-11-30")
    assert b["weekly-all"]["spent"] == pytest.approx(8.0) and b["weekly-all"]["state"] == "warning"
    assert (b["weekly-all"]["periodStart"], b["weekly-all"]["periodEnd"]) == ("2026-11-16", "2026-11-22")
    assert b["daily-anthropic"]["percent"] == pytest.approx(100.0) and b["daily-anthropic"]["state"] == "exceeded"
    assert b["daily-anthropic"]["scope"] == {"provider": "anthropic"} and b["daily-anthropic"]["currency"] == "EUR"
    assert "budgetNote" not in r
    msgs = [x["message"] for x in r["recommendations"]]
    assert "Budget daily-anthropic (daily) at 100 % of €8.00: spending is over the limit" in msgs
    assert "Budget weekly-all (weekly) at 80 % of €10.00: spending is high: route work to cheaper models" in msgs


def test_without_budgets_it_says_so(make_app: Callable[..., Any]) -> None:
    app = make_app(timezone="UTC")
    r = server_status(app, seed.NOW, health=fixed_health())
    assert r["budgets"] == [] and "budgetRemaining" not in r
    assert r["budgetNote"] == "no budgets configured (add [[budgets]] to config.toml)"
    assert "no budgets configured" in render_server_status(r)


@pytest.mark.parametrize(("percent", "state"), [
    (0, "ok"), (74.99, "ok"), (75, "warning"), (89.99, "warning"), (90, "critical"), (99.99, "critical"),
    (100, "exceeded"), (250, "exceeded"),
])
def test_budget_state_boundaries(percent: float, state: str) -> None:
    assert budget_state(percent, [75, 90, 100]) == state


def test_budget_periods() -> None:
    from datetime import date

    assert period_bounds("weekly", date(2026, 11, 16)) == (date(2026, 11, 16), date(2026, 11, 22))
    assert period_bounds("monthly", date(2028, 2, 10)) == (date(2028, 2, 1), date(2028, 2, 29))
    assert period_bounds("daily", date(2026, 1, 1)) == (date(2026, 1, 1), date(2026, 1, 1))


def test_a_display_currency_without_a_rate_is_an_error_not_a_guess(make_app: Callable[..., Any]) -> None:
    with pytest.raises(ConfigError, match="EUR has no usable rate"):
        server_status(make_app(currency="EUR"), seed.NOW, health=fixed_health())


def test_json_validates_against_the_protos(seeded: Any) -> None:
    r = server_status(seeded, seed.NOW, health=fixed_health())
    ParseDict(r, health_pb2.ServerStatusReport())  # unknown fields raise
    live = collect_health(seeded, probe_timeout=0.3)
    ParseDict(live, health_pb2.SystemHealth())
    from tokendash.api._pb import token_dashboard_service_pb2

    ParseDict(live, token_dashboard_service_pb2.HealthResponse())
    # And the report around live readings, as `server-status --format json` prints it.
    ParseDict(server_status(seeded, seed.NOW, probe_timeout=0.3), health_pb2.ServerStatusReport())


@pytest.mark.parametrize(("verbose", "name"), [(False, "server_status.txt"), (True, "server_status_verbose.txt")])
def test_text_report_matches_the_golden_file(seeded: Any, verbose: bool, name: str) -> None:
    text = render_server_status(server_status(seeded, seed.NOW, health=fixed_health()), verbose) + "\n"
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):  # not TOKENDASH_*: the fixture clears those
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_health_text_lists_what_was_read() -> None:
    text = render_health(fixed_health(), verbose=True)
    assert text.startswith("🟠 CAUTION\n")
    assert "CPU:    1.23 / 0.98 / 0.75 load (8 cores), 17.5% busy" in text
    assert "Temp:    48.0°C (coretemp/Package id 0)" in text and "Temp:    39.9°C (nvme/Composite)" in text
    assert "  ⚠️  RAM at 78.4 % (caution above 75 %): check what is using memory; Ollama holds 1 loaded model(s), 6.1 GiB: unload idle ones" in text


def test_cli_server_status_json_and_text(tmp_path: Path) -> None:
    """The real command in a subprocess, on a store seeded now (its month is the current one)."""
    import json
    import time

    from tests.support import Cli
    from tokendash.app import App
    from tokendash.config.settings import Settings

    cli = Cli(tmp_path)
    cli.env.update(TOKENDASH_CURRENCY="EUR", TOKENDASH_FX="EUR=1.25", TOKENDASH_TIMEZONE="UTC",
                   TOKENDASH_OLLAMA_URL=dead_port(), TOKENDASH_GATEWAY_URL=dead_port(),
                   TOKENDASH_BUDGETS='[{"id": "m", "period": "monthly", "limit": 50}]')
    app = App(Settings(home=cli.home, timezone="UTC"))
    from tokendash.pricing.prices import Priced
    from tokendash.sources.base import UsageEvent

    ev = UsageEvent(source="claude-code", dedupe_key="k", ts_ms=int(time.time() * 1000) - 60_000,
                    provider="anthropic", model="claude-sonnet-4-5", input=100, output=50)
    app.store.write_batch("claude-code", [(ev, Priced(5 * 10**9, "estimated"))])
    out = cli.run("server-status", "--now", "--format", "json").stdout
    r = json.loads(out)
    ParseDict(r, health_pb2.ServerStatusReport())
    assert r["currency"] == "EUR" and r["month"]["costUsd"] == 5.0 and r["month"]["tokens"]["total"] == 150
    assert r["budgets"][0]["spent"] == 4.0 and r["budgetRemaining"] == 46.0  # 5 USD = 4 EUR of 50
    text = cli.run("server-status", "--now").stdout
    assert "OPENCLAW SERVER STATUS" in text and "Cost:      €4.00" in text and "Remaining: €     46.00" in text
    health = json.loads(cli.run("health", "--json").stdout)
    ParseDict(health, health_pb2.SystemHealth())
    cli.env["TOKENDASH_FX"] = "CNY=0.14"
    p = cli.run("server-status", "--now", check=False)
    assert p.returncode == 1 and "EUR has no usable rate" in p.stderr and "Traceback" not in p.stderr
