"""Secrets: with sentinel keys configured (and upstream errors that echo them), a full run leaves no
trace of any key in the store, the logs, the CLI output, the RPC results or the error texts, and each
key is sent only to its own provider."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.providers.conftest import KEYS, World
from tests.providers.fakes import Fault
from tests.support import Cli

OWNER = {
    "OPENAI_ADMIN_KEY": "openai", "ANTHROPIC_ADMIN_KEY": "anthropic", "OPENROUTER_API_KEY": "openrouter",
    "OPENROUTER_MANAGEMENT_KEY": "openrouter", "MOONSHOT_API_KEY": "moonshot", "DEEPSEEK_API_KEY": "deepseek",
}


def leaks(text: str | bytes) -> list[str]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return [name for name, key in KEYS.items() if key in text or key[-16:] in text]


def hostile_faults(world: World) -> None:
    """Upstream errors that quote keys back, their own and another provider's."""
    echo = f"Incorrect API key provided: {KEYS['OPENAI_ADMIN_KEY']} (also saw {KEYS['OPENROUTER_MANAGEMENT_KEY']})"
    world.servers["openai"].faults = [Fault("status", 401, {"error": {"message": echo, "type": "x", "param": None, "code": None}},
                                            path="/v1/organization/costs")]
    world.servers["moonshot"].faults = [Fault("status", 500, {"error": {"message": f"key {KEYS['MOONSHOT_API_KEY']} broke us"}})]
    world.servers["anthropic"].faults = [Fault("status", 403, {"type": "error", "error": {"type": "permission_error",
                                               "message": f"x-api-key {KEYS['ANTHROPIC_ADMIN_KEY']} lacks admin"}})]


def assert_each_key_went_only_to_its_provider(world: World) -> None:
    for name, key in KEYS.items():
        for pid, server in world.servers.items():
            sent = any(key in v for r in server.seen for v in r.headers.values())
            in_query = any(key in json.dumps(r.query) for r in server.seen)
            assert not in_query
            assert sent == (pid == OWNER[name]), f"{name} sent to {pid}: {sent}"


def grep_tree(root: Path) -> dict[str, list[str]]:
    found = {}
    for p in root.rglob("*"):
        if p.is_file():
            hit = leaks(p.read_bytes())
            if hit:
                found[str(p)] = hit
    return found


def test_cli_run_leaves_no_key_anywhere(world: World, tmp_path: Path) -> None:
    hostile_faults(world)
    # DeepSeek's key comes through the OpenClaw config as ${VAR} from its env block (SPEC §3).
    oc = tmp_path / "oc"
    oc.mkdir()
    (oc / "openclaw.json").write_text(json.dumps({
        "models": {"providers": {"deepseek": {"apiKey": "${DS_BILLING}"}}},
        "env": {"DS_BILLING": KEYS["DEEPSEEK_API_KEY"]},
    }))
    cli = Cli(tmp_path, openclaw=oc)
    cli.env.pop("DEEPSEEK_API_KEY", None)
    cli.env.update({k: v for k, v in KEYS.items() if k != "DEEPSEEK_API_KEY"})
    for field, url in world.base_urls().items():
        cli.env[f"TOKENDASH_{field.upper()}"] = url
    cli.env.update(TOKENDASH_FX="CNY=0.14", TOKENDASH_PROVIDER_MAX_RETRIES="0", TOKENDASH_TIMEZONE="UTC")

    outputs = [
        cli.run("ingest", "--json", check=False),
        cli.run("providers", "--refresh", "--reconcile", "--json", check=False),
        cli.run("providers", check=False),
        cli.run("status", "--json", check=False),
        cli.run("status", check=False),
        cli.run("burn", "--json", check=False),
        cli.run("call", "token-dashboard.refresh", check=False),
        cli.run("doctor", check=False),
    ]
    for p in outputs:
        assert not leaks(p.stdout) and not leaks(p.stderr), (p.args, p.stdout[-500:], p.stderr[-500:])
    infos = {i["id"]: i for i in json.loads(outputs[1].stdout)["providers"]}
    # The run really happened: errors were stored and shown, DeepSeek's key from OpenClaw was used.
    assert infos["deepseek"]["isReachable"] and infos["deepseek"]["keyHint"] == "sk-…0006"
    assert "HTTP 401" in infos["openai"]["error"] and "Incorrect API key provided: ****" in infos["openai"]["error"]
    assert "HTTP 500" in infos["moonshot"]["error"] and "HTTP 403" in infos["anthropic"]["error"]
    assert outputs[0].stdout.strip(), outputs[0].stderr
    ingest = {r["source"]: r for r in json.loads(outputs[0].stdout)["results"]}
    assert ingest["deepseek"]["ok"] and not ingest["moonshot"]["ok"]
    assert grep_tree(cli.home) == {}
    assert_each_key_went_only_to_its_provider(world)


def test_sidecar_results_logs_and_store_hold_no_key(world: World, caplog: pytest.LogCaptureFixture) -> None:
    from tests.sidecar.harness import RunningSidecar

    hostile_faults(world)
    caplog.set_level(logging.DEBUG)
    app = world.app(http_addr="127.0.0.1:0", grpc_addr="127.0.0.1:0", provider_max_retries=0)
    sc = RunningSidecar(app).start()
    try:
        refreshed = sc.rpc("token-dashboard.refresh", {"sources": list(dict.fromkeys(OWNER.values()))})
        results = [
            refreshed,
            sc.rpc("token-dashboard.status", {"refresh": True}),
            sc.rpc("token-dashboard.providers"),
            sc.rpc("token-dashboard.burn"),
            sc.rpc("token-dashboard.cached", {"format": "text"}),
        ]
        grpc_providers = sc.grpc_call("Providers") if _has_rpc("Providers") else None
        status, metrics = sc.get("/metrics")
    finally:
        sc.stop()
    for r in results:
        assert not leaks(json.dumps(r)), r
    if grpc_providers is not None:
        assert not leaks(grpc_providers.SerializeToString())
    assert not leaks(metrics)
    by_source = {r["source"]: r for r in refreshed["results"]}
    # A provider that got nothing fails its refresh; one that got part of its data stays ok there and
    # shows the failed endpoint in `providers` and `status` (no ✅: isReachable is false).
    assert not by_source["moonshot"]["ok"] and "HTTP 500" in by_source["moonshot"]["error"]
    assert by_source["deepseek"]["ok"] and by_source["openai"]["ok"]
    provs = {p["id"]: p for p in results[2]["providers"]}
    assert provs["deepseek"]["isReachable"] and "HTTP 401" in provs["openai"]["error"]
    assert not provs["openai"]["isReachable"] and provs["openai"]["error"].startswith("partial: ")
    assert not any("database is locked" in r.getMessage() for r in caplog.records)
    assert not leaks("\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records))
    assert grep_tree(world.tmp / "home") == {}
    assert_each_key_went_only_to_its_provider(world)


def _has_rpc(name: str) -> bool:
    from tokendash.api.codec import SERVICE

    return name in SERVICE.methods_by_name
