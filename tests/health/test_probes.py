"""The service probes against local servers that answer as Ollama, ChromaDB and the gateway do, and
against a dead port and a hanging port: every failure says why, and nothing waits past the deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.health.fakes import (
    GEMMA3_TAGS,
    OLLAMA_PS,
    QWEN_TAGS,
    chroma_routes,
    dead_port,
    hanging_port,
    ollama_routes,
    serve,
)
from tokendash.health import collect_health, server_status
from tokendash.health.probes import probe_all


def _by_name(services: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in services}


def test_ollama_real_sizes_and_loaded_models(make_app: Callable[..., Any]) -> None:
    with serve(ollama_routes()) as (url, _):
        app = make_app(ollama_url=url, gateway_url=dead_port())
        s = _by_name(probe_all(app.settings))["ollama"]
    assert s["ok"] is True and s["configured"] is True and "error" not in s and "warning" not in s
    o = s["ollama"]
    # The byte counts the server sent, summed by hand: 3338801804 + 4683087332.
    assert o["modelCount"] == 2 and o["totalSizeBytes"] == 8021889136
    assert [m["name"] for m in o["models"]] == ["qwen2.5-coder:7b", "gemma3"]  # largest first
    assert o["models"][1] == {"name": "gemma3", "sizeBytes": 3338801804, "family": "gemma",
                              "parameterSize": "4.3B", "quantizationLevel": "Q4_K_M"}
    assert o["loadedCount"] == 1 and o["loadedSizeBytes"] == 6591830464
    assert o["loaded"] == [{"name": "gemma3", "sizeBytes": 6591830464, "sizeVramBytes": 5333539264,
                            "expiresAt": "2025-10-17T16:47:07.93355-07:00"}]


def test_ollama_without_loaded_models_and_with_a_broken_ps(make_app: Callable[..., Any]) -> None:
    with serve(ollama_routes(ps={"models": []})) as (url, _):
        s = _by_name(probe_all(make_app(ollama_url=url, gateway_url=dead_port()).settings))["ollama"]
    assert s["ok"] and s["ollama"]["loadedCount"] == 0 and s["ollama"]["loadedSizeBytes"] == 0
    with serve({"/api/tags": (200, {"models": [QWEN_TAGS]}), "/api/ps": (500, {"error": "boom"})}) as (url, _):
        s = _by_name(probe_all(make_app(ollama_url=url, gateway_url=dead_port()).settings))["ollama"]
    assert s["ok"] is True and s["warning"] == "/api/ps: HTTP 500"
    assert s["ollama"]["modelCount"] == 1 and "loadedCount" not in s["ollama"]


def test_malformed_ollama_body_names_the_field(make_app: Callable[..., Any]) -> None:
    bad = {"models": [GEMMA3_TAGS, {**QWEN_TAGS, "size": "4.6 GB"}]}
    with serve(ollama_routes(tags=bad)) as (url, _):
        s = _by_name(probe_all(make_app(ollama_url=url, gateway_url=dead_port()).settings))["ollama"]
    assert s == {"name": "ollama", "url": url, "configured": True, "ok": False,
                 "error": "/api/tags: models[1].size is not a byte count"}
    with serve({"/api/tags": (200, b"<html>proxy login</html>"), "/api/ps": (200, OLLAMA_PS)}) as (url, _):
        s = _by_name(probe_all(make_app(ollama_url=url, gateway_url=dead_port()).settings))["ollama"]
    assert s["ok"] is False and s["error"] == "/api/tags: answer is not JSON" and "proxy" not in str(s)


def test_chromadb_heartbeat_and_collection_count_with_token(make_app: Callable[..., Any]) -> None:
    # A tenant with a space travels percent-encoded in the path, as from any HTTP client.
    with serve(chroma_routes(count=7, tenant="team%20a", db="rag")) as (url, seen):
        app = make_app(chromadb_url=url + "/", chromadb_token="ck-secret-123", chromadb_tenant="team a",
                       chromadb_database="rag", ollama_url=dead_port(), gateway_url=dead_port())
        s = _by_name(probe_all(app.settings))["chromadb"]
    assert s["ok"] is True and "warning" not in s and s["url"] == url + "/"
    assert s["chromadb"] == {"heartbeatNs": 1763845200123456789, "collectionCount": 7}
    assert sorted(p for p, _ in seen) == ["/api/v2/heartbeat", "/api/v2/tenants/team%20a/databases/rag/collections_count"]
    assert all(h.get("X-Chroma-Token") == "ck-secret-123" and h.get("Authorization") == "Bearer ck-secret-123"
               for _, h in seen)
    assert "ck-secret-123" not in repr(s)


def test_chromadb_count_failure_is_a_warning(make_app: Callable[..., Any]) -> None:
    with serve({"/api/v2/heartbeat": (200, {"nanosecond heartbeat": 5})}) as (url, _):
        s = _by_name(probe_all(make_app(chromadb_url=url, ollama_url=dead_port(), gateway_url=dead_port()).settings))["chromadb"]
    assert s["ok"] is True and s["chromadb"] == {"heartbeatNs": 5}
    assert s["warning"] == "collections_count: HTTP 404"


def test_chromadb_is_off_unless_configured(make_app: Callable[..., Any]) -> None:
    s = _by_name(probe_all(make_app(ollama_url=dead_port(), gateway_url=dead_port()).settings))["chromadb"]
    assert s == {"name": "chromadb", "configured": False, "ok": False}


def test_chromadb_auth_failure_keeps_the_token_out(make_app: Callable[..., Any]) -> None:
    with serve({"/api/v2/heartbeat": (401, {"error": "Unauthorized", "message": "token ck-secret-123 invalid"})}) as (url, _):
        app = make_app(chromadb_url=url, chromadb_token="ck-secret-123", ollama_url=dead_port(), gateway_url=dead_port())
        h = collect_health(app)
    s = _by_name(h["services"])["chromadb"]
    assert s["ok"] is False and s["error"] == "/api/v2/heartbeat: HTTP 401"
    assert "ck-secret-123" not in repr(h)


def test_gateway_healthz_and_url_from_openclaw_config(make_app: Callable[..., Any], tmp_path: Any, monkeypatch: Any) -> None:
    with serve({"/healthz": (200, {"ok": True, "status": "live"})}) as (url, _):
        port = int(url.rsplit(":", 1)[1])
        state = tmp_path / "openclaw"
        state.mkdir()
        (state / "openclaw.json").write_text(f"{{gateway: {{port: {port}}}, // JSON5\n}}")
        monkeypatch.setenv("OPENCLAW_STATE_DIR", str(state))
        s = _by_name(probe_all(make_app(ollama_url=dead_port()).settings))["gateway"]
    assert s == {"name": "gateway", "url": f"http://127.0.0.1:{port}", "configured": True, "ok": True,
                 "latencyMs": s["latencyMs"], "gateway": {"status": "live"}}


def test_dead_and_hanging_ports_say_why_and_stay_under_two_seconds(make_app: Callable[..., Any]) -> None:
    with hanging_port() as hang, serve(chroma_routes()) as (chroma, _):
        app = make_app(ollama_url=hang, gateway_url=dead_port(), chromadb_url=chroma,
                       health_probe_timeout_seconds=1.0)
        start = time.monotonic()
        h = collect_health(app)
        took = time.monotonic() - start
    assert took < 2.0, took
    s = _by_name(h["services"])
    assert s["ollama"]["ok"] is False and s["ollama"]["error"] == "/api/tags: no answer within 1 s"
    assert s["gateway"]["ok"] is False and s["gateway"]["error"] == "/healthz: connection refused"
    # The healthy service answered although the others hang or refuse.
    assert s["chromadb"]["ok"] is True and s["chromadb"]["chromadb"]["collectionCount"] == 7
    msgs = [r["message"] for r in h["recommendations"] if r["severity"] == "warning"]
    assert any(m.startswith("Ollama is not answering at " + hang) for m in msgs)
    assert any("OpenClaw gateway is not answering" in m and "connection refused" in m for m in msgs)


def test_a_redirect_is_not_followed(make_app: Callable[..., Any]) -> None:
    with serve({"/healthz": (302, {"location": "/login"})}) as (url, _):
        s = _by_name(probe_all(make_app(ollama_url="off", gateway_url=url).settings))["gateway"]
    assert s["ok"] is False and s["error"] == "/healthz: HTTP 302"


def test_default_addresses_that_refuse_are_information_not_warnings(make_app: Callable[..., Any]) -> None:
    # Nothing set: Ollama and the gateway are probed at their default addresses only.
    from tokendash.health.light import recommendations

    app = make_app()
    services = probe_all(app.settings, timeout=0.5)
    s = _by_name(services)
    assert s["ollama"]["configured"] is False and s["gateway"]["configured"] is False
    recs = recommendations({"services": services}, [])
    failing = [r for r in recs if "not found at" in r["message"] or "not answering" in r["message"]]
    assert all(r["severity"] == "info" for r in failing)


def test_the_whole_report_comes_back_in_under_two_seconds_with_every_service_hanging(make_app: Callable[..., Any]) -> None:
    from tests.health import seed

    with hanging_port() as a, hanging_port() as b, hanging_port() as c:
        app = make_app(ollama_url=a, chromadb_url=b, gateway_url=c, **seed.SETTINGS)
        seed.seed(app.store)
        start = time.monotonic()
        r = server_status(app, seed.NOW)
        took = time.monotonic() - start
    assert took < 2.0, took
    assert [(s["name"], s["ok"], s["error"]) for s in r["health"]["services"]] == [
        ("ollama", False, "/api/tags: no answer within 1 s"),
        ("chromadb", False, "/api/v2/heartbeat: no answer within 1 s"),
        ("gateway", False, "/healthz: no answer within 1 s"),
    ]
    assert r["month"]["tokens"]["total"] == seed.MONTH_TOKENS  # the rest of the report is all there


def test_the_chromadb_token_is_masked_in_the_settings_dump(make_app: Callable[..., Any]) -> None:
    masked = make_app(chromadb_token="ck-secret-123").settings.masked()
    assert masked["chromadbToken"] == "****" and "ck-secret-123" not in repr(masked)


def test_probes_can_be_switched_off(make_app: Callable[..., Any]) -> None:
    services = probe_all(make_app(ollama_url="off", gateway_url="OFF", chromadb_url="off").settings)
    assert services == [{"name": "chromadb", "configured": False, "ok": False}]
