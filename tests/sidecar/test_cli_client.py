"""The CLI as a client: with a sidecar running, read commands ask it; without one they work on the
store in-process; either way they print the same thing."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sidecar.harness import recent_day, serve_process
from tests.support import Cli, gen_corpus

# Fields that say when something was read or built (or project from that moment), which two calls a
# moment apart need not share.
VOLATILE = {"timestamp", "ageSeconds", "lastPoll", "lastSuccess", "lastChecked", "projectedMonthEndUsd"}


def scrub(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: scrub(x) for k, x in v.items() if k not in VOLATILE}
    if isinstance(v, list):
        return [scrub(x) for x in v]
    return v


def text_body(s: str) -> str:
    return "\n".join(ln for ln in s.splitlines() if not ln.startswith("_Last updated"))


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cli, Cli]]:
    tmp = tmp_path_factory.mktemp("client")
    claude = tmp / "claude"
    # Ten days back and more: no event sits near an edge of the trailing 24 h / 7 d burn windows, which
    # move between the sidecar's build of the dashboard and the in-process one a moment later.
    manifest = gen_corpus(claude, files=3, assistant_lines=200, seed=21, end_date=recent_day(10), days=3)
    local = Cli(tmp, claude=claude)
    p, url = serve_process(local)
    remote = Cli(tmp, claude=claude)
    remote.env["TOKENDASH_URL"] = url
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            src = {s["id"]: s for s in remote.json("status")["sources"]}["claude-code"]
            if src["ok"] and src["items"] == manifest["dedupTotals"]["entries"]:
                break
            time.sleep(0.2)
        yield remote, local
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(30) == 0


@pytest.mark.parametrize("args", [("status",), ("burn",)])
def test_text_is_the_same_from_the_sidecar_and_the_store(pair: tuple[Cli, Cli], args: tuple[str, ...]) -> None:
    remote, local = pair
    a, b = remote.run(*args).stdout, local.run(*args).stdout
    assert text_body(a) == text_body(b)
    assert a.startswith(("📊 **Token Dashboard**", "🔥 **Burn Rate Summary**", "⬜ No providers"))


@pytest.mark.parametrize("args", [("status",), ("burn",), ("report", "daily", "--by", "model"), ("report", "session")])
def test_json_is_the_same_from_the_sidecar_and_the_store(pair: tuple[Cli, Cli], args: tuple[str, ...]) -> None:
    remote, local = pair
    assert scrub(remote.json(*args)) == scrub(local.json(*args))


def test_csv_and_raw_calls_are_the_same(pair: tuple[Cli, Cli]) -> None:
    remote, local = pair
    assert remote.run("report", "monthly", "--csv").stdout == local.run("report", "monthly", "--csv").stdout
    params = json.dumps({"groupBy": ["day", "model"], "since": "all"})
    for method in ("usage", "token-dashboard.usage"):
        assert json.loads(remote.run("call", method, "--params", params).stdout) == json.loads(
            local.run("call", method, "--params", params).stdout)


def test_the_sidecar_is_really_asked(pair: tuple[Cli, Cli], tmp_path: Path) -> None:
    remote, _ = pair
    wrong = Cli(tmp_path)
    wrong.env.update(TOKENDASH_URL=remote.env["TOKENDASH_URL"], TOKENDASH_TOKEN="not-the-token")
    p = wrong.run("status", check=False)
    assert p.returncode == 1 and "refused the token" in p.stderr and "not-the-token" not in p.stderr
    health = json.loads(remote.run("call", "health").stdout)
    assert "status" in health


def test_errors_are_the_same_either_way(pair: tuple[Cli, Cli]) -> None:
    for cli in pair:
        p = cli.run("call", "status", "--params", '{"format": "xml"}', check=False)
        assert p.returncode == 2 and "format" in p.stderr and "Traceback" not in p.stderr
        p = cli.run("call", "no-such-method", check=False)
        assert p.returncode == 2
        p = cli.run("report", "daily", "--since", "yesterday-ish", check=False)
        assert p.returncode == 2 and "since" in p.stderr


def test_refresh_through_the_sidecar(pair: tuple[Cli, Cli]) -> None:
    remote, _ = pair
    out = remote.json("status", "--refresh")
    assert {s["id"]: s for s in out["sources"]}["claude-code"]["ok"]
    res = json.loads(remote.run("call", "refresh", "--params", '{"sources": ["claude-code"]}').stdout)
    assert res["results"][0]["source"] == "claude-code" and res["results"][0]["ok"]


def test_ingest_goes_through_the_sidecar(tmp_path: Path) -> None:
    # With a sidecar running, `tokendash ingest` asks it for the pass (its scheduler owns the sources)
    # and prints the same fields as a pass in this process; appended lines are read once, by it.
    claude = tmp_path / "claude"
    manifest = gen_corpus(claude, files=2, assistant_lines=100, seed=5, end_date=recent_day(3), days=2)
    local = Cli(tmp_path, claude=claude)
    p, url = serve_process(local)
    remote = Cli(tmp_path, claude=claude)
    remote.env["TOKENDASH_URL"] = url
    try:
        first = remote.json("ingest", "--json")
        (cc,) = [r for r in first["results"] if r["source"] == "claude-code"]
        assert set(cc) == {"source", "ok", "error", "files", "bytesRead", "eventsSeen", "items", "snapshots",
                           "malformedLines", "problems"}
        assert cc["ok"] and cc["error"] is None
        assert remote.json("report", "daily", "--tz", "UTC")["totals"]["tokens"]["total"] == \
            manifest["dedupTotals"]["totalTokens"]
        # The sidecar did the reading: a pass in this process finds nothing left to read.
        again = local.json("ingest", "--local", "--json")["results"]
        assert [r["bytesRead"] for r in again if r["source"] == "claude-code"] == [0]
        bad = remote.run("ingest", "--source", "nope", check=False)
        assert bad.returncode == 2 and "nope" in bad.stderr
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(30) == 0
