"""``tokendash providers`` as a real process: text and JSON, with and without keys, and ``--refresh``
polling the (fake) providers."""

from __future__ import annotations

import json
from pathlib import Path

from tests.providers.conftest import KEYS, World
from tests.providers.fakes import Fault
from tests.support import Cli


def cli_for(world: World, tmp: Path, keys: bool = True) -> Cli:
    cli = Cli(tmp)
    for k in KEYS:
        cli.env.pop(k, None)
    if keys:
        cli.env.update(KEYS)
    for field, url in world.base_urls().items():
        cli.env[f"TOKENDASH_{field.upper()}"] = url
    cli.env.update(TOKENDASH_PROVIDER_MAX_RETRIES="0", TOKENDASH_FX="CNY=0.14")
    return cli


def test_without_keys_every_provider_is_listed_as_not_configured(world: World, tmp_path: Path) -> None:
    cli = cli_for(world, tmp_path, keys=False)
    out = cli.run("providers").stdout
    assert "⬜ OpenAI (openai) (not configured)" in out and "⬜ DeepSeek (deepseek) (not configured)" in out
    data = cli.json("providers")
    assert [p["id"] for p in data["providers"]] == ["openai", "anthropic", "openrouter", "moonshot", "deepseek"]
    assert not any(p["isConfigured"] for p in data["providers"])
    assert world.requests() == dict.fromkeys(world.servers, 0)  # nothing polled without keys


def test_refresh_polls_and_shows_hints_errors_and_the_reconciliation(world: World, tmp_path: Path) -> None:
    world.servers["moonshot"].faults = [Fault("status", 401, {"error": {"message": "Invalid Authentication", "type": "invalid_authentication_error"}})]
    cli = cli_for(world, tmp_path)
    p = cli.run("providers", "--refresh", "--reconcile", check=False)
    assert p.returncode == 1  # a provider failed
    assert "moonshot: moonshot /users/me/balance: HTTP 401 key rejected: Invalid Authentication" in p.stderr
    assert "✅ DeepSeek (deepseek) — balance · key sk-…0006 · last success " in p.stdout
    assert "⚠️ Moonshot (Kimi) (moonshot) — balance · key sk-…0005 · stale" in p.stdout
    assert "    Error: moonshot /users/me/balance: HTTP 401" in p.stdout
    assert "Billed vs attributed (USD, UTC days):" in p.stdout and "openai      today" in p.stdout
    again = cli.json("providers")  # from the store, no polling
    assert {x["id"]: x["isReachable"] for x in again["providers"]} == {
        "openai": True, "anthropic": True, "openrouter": True, "moonshot": False, "deepseek": True}
    assert json.dumps(again).count("SENTINEL") == 0
