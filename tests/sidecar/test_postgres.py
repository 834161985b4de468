"""The sidecar on a team store (PostgreSQL): writes from its threads, records, and ``scope``: team by
default (every host's rows), ``host`` for this machine's only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.sidecar.harness import RunningSidecar, make_app
from tokendash.pricing.prices import Priced
from tokendash.sources.base import UsageEvent
from tokendash.store.repo import Store


@pytest.mark.postgres
def test_team_store_scopes(tmp_path: Path, pg_database: str) -> None:
    app = make_app(tmp_path, database_url=pg_database, host_id="this-machine")
    sidecar = RunningSidecar(app).start()
    try:
        hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        assert sidecar.rpc("token-dashboard.record", {"events": [
            {"idempotencyKey": "here-1", "timestamp": hour_ago, "provider": "acme", "model": "m", "input": 1000, "costUsd": 1.5},
        ]}) == {"accepted": 1, "duplicates": 0}
        other = Store(app.store.engine, host_id="other-machine")  # another host's sidecar, same database
        ts = int((datetime.now(UTC) - timedelta(hours=1)).timestamp() * 1000)
        other.write_batch("record", [(UsageEvent("record", "there-1", ts, "acme", "m", input=5000), Priced(500_000_000, "reported"))])
        sidecar.rpc("token-dashboard.refresh", {})  # the dashboard is rebuilt after the foreign write

        def acme(s: dict) -> tuple[int, float]:
            p = next(p for p in s["providers"] if p["providerId"] == "acme")
            return p["currentUsage"]["inputTokens"], p["currentUsage"]["costUsd"]

        team = sidecar.rpc("token-dashboard.status", {})
        assert acme(team) == (6000, pytest.approx(2.0))
        host = sidecar.rpc("token-dashboard.status", {"scope": "host", "format": "text"})
        assert acme(host) == (1000, pytest.approx(1.5))
        assert "Tokens: 1,000" in host["text"]
        rows = sidecar.rpc("token-dashboard.usage", {"groupBy": ["host"], "filters": {"provider": "acme"}})["rows"]
        assert sorted((r["host"], r["tokens"]["input"]) for r in rows) == [("other-machine", 5000), ("this-machine", 1000)]
        assert sidecar.rpc("token-dashboard.usage", {"groupBy": ["host"], "scope": "host"})["totals"]["tokens"]["input"] == 1000
        assert sidecar.grpc_call("Cached").periods.month.tokens.input == 6000
    finally:
        sidecar.stop()
        app.store.engine.dispose()
