"""The sidecar archives by itself (``tokendash archive --auto`` is its daily job): events older than
historyRetentionDays are folded into rollups while it serves, and what it answers does not change."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.sidecar.harness import RunningSidecar, make_app
from tokendash.server.scheduler import Scheduler


def test_the_sidecar_archives_old_events_by_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Scheduler, "ARCHIVE_FIRST_DELAY", 0.5)
    app = make_app(tmp_path, history_retention_days=10)
    sidecar = RunningSidecar(app).start()
    try:
        now = datetime.now(UTC)
        events = [{"idempotencyKey": f"auto-{d}", "timestamp": (now - timedelta(days=d, minutes=30)).isoformat(),
                   "provider": "acme", "model": "acme-1", "agent": "main", "input": 1000 + d, "output": d,
                   "costUsd": 0.01 * d} for d in range(1, 40)]
        assert sidecar.rpc("token-dashboard.record", {"events": events})["accepted"] == 39
        params = {"groupBy": ["day", "model"], "timezone": "Asia/Kolkata"}
        before = sidecar.rpc("token-dashboard.usage", params)
        engine = app.store.engine
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with engine.connect() as c:
                raw = c.execute(text("SELECT COUNT(*) FROM usage_events")).scalar_one()
            if raw <= 9:  # every old day folded (one transaction per day)
                break
            time.sleep(0.1)
        with engine.connect() as c:
            raw = c.execute(text("SELECT COUNT(*) FROM usage_events")).scalar_one()
            folded = c.execute(text("SELECT COALESCE(SUM(requests), 0) FROM usage_rollups")).scalar_one()
        assert (raw, folded) == (9, 30)  # the cut-off is 10 days ago (to 15 minutes): 1..9 days old stay raw
        sidecar.ctx._data_changed()  # forget the remembered answer: read the store again
        assert sidecar.rpc("token-dashboard.usage", params) == before
        # A record of an archived event sent again is a duplicate.
        assert sidecar.rpc("token-dashboard.record", {"events": events[20:21]}) == {"accepted": 0, "duplicates": 1}
    finally:
        sidecar.stop()
        app.store.engine.dispose()
