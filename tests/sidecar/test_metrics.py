"""``GET /metrics`` read by Prometheus' own parser (prometheus_client): the counters equal the API's
totals (``tokendash_tokens_total`` per token type against ``token-dashboard.usage``, and per label set;
``tokendash_cost_usd_total`` against ``costUsd``), the standard process metrics are there, and the
endpoint needs the token. On SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.sidecar.harness import RunningSidecar, make_app
from tests.support import gen_corpus

TYPES = {"input": "input", "output": "output", "cache_read": "cacheRead", "cache_write": "cacheWrite"}
LABELS = ("provider", "model", "source", "agent")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'tokendash.db'}"
    return request.getfixturevalue("pg_database")


def test_metrics_counters_equal_the_api_totals(tmp_path: Path, database_url: str) -> None:
    claude = tmp_path / ".claude"
    gen_corpus(claude, files=4, assistant_lines=600, seed=17, end_date=datetime.now(UTC).date().isoformat(), days=20)
    app = make_app(tmp_path, claude, database_url=database_url, host_id="metrics-host")
    sidecar = RunningSidecar(app).start()
    try:
        hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        records = [
            {"idempotencyKey": "m-1", "timestamp": hour_ago, "provider": "acme", "model": "acme-x", "agent": 'we"ird\\a',
             "input": 1234, "output": 56, "cacheRead": 7, "cacheWrite": 8, "costUsd": 0.123456789},
            {"idempotencyKey": "m-2", "timestamp": hour_ago, "provider": "nowhere", "model": "no-price-model",
             "input": 999, "output": 1},  # unpriced: tokens counted, no cost
        ]
        assert sidecar.rpc("token-dashboard.record", {"events": records})["accepted"] == 2
        sidecar.rpc("token-dashboard.refresh", {"sources": ["claude-code"]})
        assert sidecar.get("/metrics")[0] == 401
        assert sidecar.get("/metrics", "not-the-token")[0] == 401
        status, body = sidecar.get("/metrics", sidecar.token)
        assert status == 200
        families = {f.name: f for f in text_string_to_metric_families(body.decode())}

        usage = sidecar.rpc("token-dashboard.usage", {"groupBy": list(LABELS), "scope": "team"})
        totals = usage["totals"]
        assert totals["requests"] > 100 and totals["unpricedTokens"] >= 1000

        tokens = families["tokendash_tokens"]  # the parser names a counter family without "_total"
        assert tokens.type == "counter"
        by_type: dict[str, float] = defaultdict(float)
        by_labels: dict[tuple, dict[str, float]] = defaultdict(dict)
        for s in tokens.samples:
            assert s.name == "tokendash_tokens_total"
            by_type[s.labels["type"]] += s.value
            by_labels[tuple(s.labels[k] for k in LABELS)][s.labels["type"]] = s.value
        assert {t: int(v) for t, v in by_type.items()} == {t: totals["tokens"][k] for t, k in TYPES.items()}
        want = {tuple(r[k] or "" for k in LABELS): {t: r["tokens"][k] for t, k in TYPES.items()} for r in usage["rows"]}
        assert by_labels == want
        assert ("acme", "acme-x", "record", 'we"ird\\a') in by_labels  # label escaping survives the round trip

        cost = families["tokendash_cost_usd"]
        assert cost.type == "counter"
        assert sum(s.value for s in cost.samples) == pytest.approx(totals["costUsd"], rel=1e-12)
        per_row = {tuple(s.labels[k] for k in LABELS): s.value for s in cost.samples}
        assert per_row == {tuple(r[k] or "" for k in LABELS): pytest.approx(r["costUsd"], rel=1e-12)
                           for r in usage["rows"]}

        up = {s.labels["source"]: s.value for s in families["tokendash_source_up"].samples}
        assert up["claude-code"] == 1

        # The standard process metrics of the sidecar (here the test process, which runs it).
        proc = {s.name: s.value for name in ("process_resident_memory_bytes", "process_open_fds", "process_cpu_seconds",
                                              "process_start_time_seconds") for s in families[name].samples}
        import psutil

        me = psutil.Process(os.getpid())
        assert proc["process_resident_memory_bytes"] > 10e6
        assert proc["process_open_fds"] >= 3
        assert 0 < proc["process_cpu_seconds_total"] <= sum(me.cpu_times()[:2]) + 1
        assert proc["process_start_time_seconds"] == pytest.approx(me.create_time(), abs=1)
        assert proc["process_start_time_seconds"] < time.time()
        assert families["process_cpu_seconds"].type == "counter"
    finally:
        sidecar.stop()
        app.store.engine.dispose()
