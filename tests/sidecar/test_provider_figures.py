"""The provider APIs reach the dashboard through the sidecar: a Moonshot balance served by a local fake
of its API is polled by the scheduler and shows in ``status`` (JSON and text) and in gRPC ``Cached``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.providers.conftest import make_world
from tests.sidecar.harness import RunningSidecar


def test_a_polled_balance_shows_in_the_dashboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with make_world(tmp_path, monkeypatch) as world:
        app = world.app(enabled_providers=["moonshot"], http_addr="127.0.0.1:0", grpc_addr="127.0.0.1:0",
                        claude_config_dir=str(empty), codex_home=str(empty))
        sidecar = RunningSidecar(app).start()
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                s = sidecar.rpc("token-dashboard.status", {"maxAgeSeconds": 0, "timeoutSeconds": 10})
                moon = next((p for p in s["providers"] if p["providerId"] == "moonshot"), None)
                if moon and moon["isReachable"]:
                    break
                time.sleep(0.2)
            else:
                raise AssertionError(f"moonshot never polled: {s['providers']}")
            # The fake's available balance is 49.58894 USD (api.moonshot.ai: USD).
            assert moon["currentUsage"]["balanceUsd"] == pytest.approx(49.58894)
            assert moon["currentUsage"]["balance"] == {"amount": pytest.approx(49.58894), "currency": "USD"}
            assert s["totalBalanceUsd"] == pytest.approx(49.58894)
            text = sidecar.rpc("token-dashboard.cached", {"format": "text"})["text"]
            assert "💰 **Total Balance:** $49.59" in text
            assert "✅ **Moonshot (Kimi)** — Balance: $49.59" in text
            cached = sidecar.grpc_call("Cached")
            assert cached.total_balance_usd == pytest.approx(49.58894)
            secret = world.env["MOONSHOT_API_KEY"]
            assert secret not in text and secret not in str(s)
        finally:
            sidecar.stop()
