"""``kill -TERM`` while the sidecar is in the middle of reading a large log corpus: the batch being
written is finished, the process exits 0, the store is consistent, and the next start serves the same
totals as the ground truth (nothing lost, nothing counted twice)."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.sidecar.harness import recent_day
from tests.sidecar.harness import serve_process as start
from tests.support import Cli, gen_corpus


def count_events(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0]
    except sqlite3.Error:
        return 0


def rpc(url: str, token: str, method: str, params: dict[str, Any]) -> Any:
    import urllib.request

    req = urllib.request.Request(f"{url}/rpc", json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode(),
                                 {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        msg = json.loads(r.read())
    assert "error" not in msg, msg
    return msg["result"]


@pytest.mark.slow
def test_sigterm_during_a_refresh_then_restart(tmp_path: Path) -> None:
    claude = tmp_path / "claude"
    manifest = gen_corpus(claude, files=8, assistant_lines=16000, seed=11, end_date=recent_day(), days=4)
    want = manifest["dedupTotals"]
    for attempt in range(3):  # the kill must land inside the first pass; a machine that is too fast retries
        (tmp_path / f"run{attempt}").mkdir()
        cli = Cli(tmp_path / f"run{attempt}", claude=claude)
        cli.env["TOKENDASH_INGEST_BATCH_EVENTS"] = "50"
        db = cli.home / "tokendash.db"
        p, _ = start(cli)
        deadline = time.monotonic() + 30
        while count_events(db) == 0 and time.monotonic() < deadline:
            time.sleep(0.002)
        p.send_signal(signal.SIGTERM)
        assert p.wait(30) == 0
        assert "tokendash sidecar stopped" in (p.stderr.read() if p.stderr else "")
        at_exit = count_events(db)
        if 0 < at_exit < want["entries"]:
            break
    else:
        pytest.fail("could not stop the sidecar inside its first pass in three tries")
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        state = conn.execute("SELECT error FROM source_state WHERE source = 'claude-code'").fetchone()
    assert state is not None and "stopped by shutdown" in state[0]

    p, url = start(cli)
    try:
        token = (cli.home / "token").read_text().strip()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            s = rpc(url, token, "token-dashboard.status", {"maxAgeSeconds": 3600})
            src = {x["id"]: x for x in s["sources"]}["claude-code"]
            if src["ok"] and src["items"] == want["entries"]:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"the second start did not finish the pass: {src}")
        totals = rpc(url, token, "token-dashboard.usage", {"groupBy": ["source"]})["totals"]
        assert totals["requests"] == want["entries"]
        assert totals["tokens"]["input"] == want["inputTokens"]
        assert totals["tokens"]["output"] == want["outputTokens"]
        assert totals["tokens"]["cacheRead"] == want["cacheReadTokens"]
        assert totals["tokens"]["cacheWrite"] == want["cacheCreationTokens"]
        assert count_events(db) == want["entries"]
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(30) == 0
