"""Two hosts, one team store (SPEC §12): two ``tokendash serve`` processes with their own
TOKENDASH_HOST_ID start at the same moment on one PostgreSQL database and ingest overlapping Claude Code
logs (the same generated corpus, as logs synced between machines, plus files only each host has), in
small transactions so that their writes interleave.

* team totals equal the ground truth of the union of the logs (the generator's manifests), overall and
  per day, from either sidecar;
* every row carries the host that first wrote it: rows of a host's own files are all that host's, the
  shared rows are split between the two, and the per-host totals add up to the team's;
* ``scope: host`` on each sidecar shows exactly the rows its host wrote.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.sidecar.harness import wait_listening
from tests.support import Cli, gen_corpus

TOKEN = "team-test-token"
KEYS = {"input": "inputTokens", "output": "outputTokens", "cacheRead": "cacheReadTokens",
        "cacheWrite": "cacheCreationTokens"}


def rpc(url: str, method: str, params: dict | None = None) -> dict:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}).encode()
    req = urllib.request.Request(url + "/rpc", body, {"Authorization": f"Bearer {TOKEN}",
                                                       "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        msg = json.loads(r.read())
    assert "error" not in msg, msg
    return msg["result"]


def sessions(claude: Path) -> set[str]:
    return {p.stem for p in (claude / "projects").glob("*/*.jsonl")}


def truth(*manifests: dict) -> tuple[dict[str, int], int, Counter]:
    tokens = {k: sum(m["dedupTotals"][v] for m in manifests) for k, v in KEYS.items()}
    per_day: Counter = Counter()
    for m in manifests:
        for day, v in m["dedupByDay"].items():
            per_day[day] += sum(v[x] for x in KEYS.values())
    return tokens, sum(m["uniqueResponses"] for m in manifests), per_day


def tokens_of(t: dict) -> dict[str, int]:
    return {k: t["tokens"][k] for k in KEYS}


@pytest.mark.postgres
def test_two_sidecars_one_postgres(tmp_path: Path, pg_database: str) -> None:
    end = datetime.now(UTC).date().isoformat()
    shared = gen_corpus(tmp_path / "shared", files=16, assistant_lines=6000, seed=101, end_date=end, days=20)
    own_a = gen_corpus(tmp_path / "own-a", files=4, assistant_lines=1200, seed=202, end_date=end, days=20)
    own_b = gen_corpus(tmp_path / "own-b", files=4, assistant_lines=1200, seed=303, end_date=end, days=20)
    shutil.copytree(tmp_path / "shared", tmp_path / "shared-synced")  # host B's copy of the same logs
    want_tokens, want_requests, want_days = truth(shared, own_a, own_b)

    procs: list = []
    clis = {}
    for host, dirs in (("host-a", ["shared", "own-a"]), ("host-b", ["shared-synced", "own-b"])):
        (tmp_path / host).mkdir()
        cli = Cli(tmp_path / host)
        cli.env.update(
            CLAUDE_CONFIG_DIR=",".join(str(tmp_path / d) for d in dirs), TOKENDASH_DATABASE_URL=pg_database,
            TOKENDASH_HOST_ID=host, TOKENDASH_TOKEN=TOKEN, TOKENDASH_TIMEZONE="UTC",
            TOKENDASH_INGEST_BATCH_EVENTS="150",  # many small transactions: the two writers interleave
        )
        clis[host] = cli
    try:
        # Both launched before either is waited for: each starts ingesting as soon as it is up.
        launched = [(h, cli.popen("serve", "--http-addr", "127.0.0.1:0", "--grpc-addr", "off")) for h, cli in clis.items()]
        procs = [p for _, p in launched]
        urls = {h: wait_listening(p)[1] for h, p in launched}
        for u in urls.values():  # joins each sidecar's first pass (single flight) and waits for its dashboard
            res = rpc(u, "token-dashboard.refresh", {"sources": ["claude-code"], "timeoutSeconds": 120})
            assert all(r["ok"] for r in res["results"]), res

        team = {h: rpc(u, "token-dashboard.usage", {"groupBy": ["day"], "scope": "team", "timezone": "UTC"})
                for h, u in urls.items()}
        assert team["host-a"] == team["host-b"]
        t = team["host-a"]
        assert tokens_of(t["totals"]) == want_tokens
        assert t["totals"]["requests"] == want_requests
        assert {r["date"]: r["tokens"]["total"] for r in t["rows"]} == dict(want_days)

        by_host = rpc(urls["host-a"], "token-dashboard.usage", {"groupBy": ["host"], "scope": "team"})["rows"]
        assert {r["host"] for r in by_host} == {"host-a", "host-b"}
        for k in KEYS:
            assert sum(r["tokens"][k] for r in by_host) == want_tokens[k]
        assert sum(r["requests"] for r in by_host) == want_requests

        engine = create_engine(pg_database)
        with engine.connect() as c:
            rows = c.execute(text("SELECT host, session, ts_ms, input, output, cache_read, cache_write "
                                  "FROM usage_events")).all()
        engine.dispose()
        only_a, only_b = sessions(tmp_path / "own-a"), sessions(tmp_path / "own-b")
        assert {r.host for r in rows if r.session in only_a} == {"host-a"}
        assert {r.host for r in rows if r.session in only_b} == {"host-b"}
        assert sum(1 for r in rows if r.session in only_a) == own_a["uniqueResponses"]
        assert sum(1 for r in rows if r.session in only_b) == own_b["uniqueResponses"]
        shared_rows = Counter(r.host for r in rows if r.session not in only_a | only_b)
        assert sum(shared_rows.values()) == shared["uniqueResponses"]
        print(f"shared rows first written by each host: {dict(shared_rows)}")

        for host, u in urls.items():  # each host's scope: exactly the rows that host wrote
            mine = [r for r in rows if r.host == host]
            got = rpc(u, "token-dashboard.usage", {"groupBy": ["day"], "scope": "host"})["totals"]
            assert got["requests"] == len(mine)
            assert got["tokens"]["input"] == sum(r.input for r in mine)
            assert got["tokens"]["output"] == sum(r.output for r in mine)
            assert got["tokens"]["cacheRead"] == sum(r.cache_read for r in mine)
            assert got["tokens"]["cacheWrite"] == sum(r.cache_write for r in mine)
            status = rpc(u, "token-dashboard.status", {"scope": "host", "maxAgeSeconds": 3600})  # month to date
            built = datetime.fromisoformat(status["timestamp"].replace("Z", "+00:00")).timestamp() * 1000
            now = datetime.fromtimestamp(built / 1000, UTC)
            month_start = datetime(now.year, now.month, 1, tzinfo=UTC).timestamp() * 1000
            assert status["periods"]["month"]["requests"] == sum(1 for r in mine if month_start <= r.ts_ms <= built)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except Exception:
                p.kill()
