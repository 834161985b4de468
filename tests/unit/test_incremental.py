"""Incremental and durable ingest: nothing re-read, nothing lost, nothing counted twice, even after
``kill -9`` in the middle of a pass."""

from __future__ import annotations

import contextlib
import json
import signal
import time
from pathlib import Path

import pytest

from tests.support import Cli, gen_corpus


def _totals(cli: Cli) -> dict:
    return cli.json("report", "daily", "--tz", "UTC")["totals"]


def _ingest(cli: Cli) -> dict:
    out = cli.json("ingest")
    (res,) = [r for r in out["results"] if r["source"] == "claude-code"]
    assert res["ok"], res
    return res


def _assistant_lines(claude: Path) -> tuple[Path, list[dict]]:
    """The largest main session file and its assistant lines (to copy as new calls)."""
    files = sorted((claude / "projects").glob("*/*.jsonl"), key=lambda p: p.stat().st_size)
    path = files[-1]
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    return path, [o for o in lines if o.get("type") == "assistant" and "usage" in o.get("message", {})]


def _new_calls(template: list[dict], n: int, tag: str) -> tuple[bytes, dict[str, int]]:
    """``n`` new API calls shaped like Claude Code's lines, with fresh ids; returns bytes and token sums."""
    out = []
    sums = {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0}
    for i in range(n):
        o = json.loads(json.dumps(template[i % len(template)]))
        o["message"]["id"] = f"msg_{tag}_{i:06d}"
        o["requestId"] = f"req_{tag}_{i:06d}"
        o["uuid"] = f"00000000-0000-4000-8000-{i:012d}"
        u = o["message"]["usage"]
        sums["input"] += u.get("input_tokens", 0)
        sums["output"] += u.get("output_tokens", 0)
        sums["cacheRead"] += u.get("cache_read_input_tokens", 0)
        sums["cacheWrite"] += u.get("cache_creation_input_tokens", 0)
        out.append(json.dumps(o, separators=(",", ":")))
    return ("\n".join(out) + "\n").encode(), sums


@pytest.fixture
def corpus(tmp_path: Path, backend_url: str | None) -> tuple[Cli, Path, dict]:
    """On the SQLite file and on PostgreSQL."""
    claude = tmp_path / ".claude"
    manifest = gen_corpus(claude, files=8, assistant_lines=1500, seed=11)
    cli = Cli(tmp_path, claude=claude, database_url=backend_url)
    return cli, claude, manifest


def test_second_pass_reads_nothing_and_changes_nothing(corpus: tuple[Cli, Path, dict]) -> None:
    cli, _claude, manifest = corpus
    first = _ingest(cli)
    assert first["bytesRead"] == manifest["bytes"]
    before = _totals(cli)
    second = _ingest(cli)
    assert (second["bytesRead"], second["items"], second["eventsSeen"]) == (0, 0, 0)
    assert _totals(cli) == before
    assert before["tokens"]["total"] == manifest["dedupTotals"]["totalTokens"]


def test_appended_lines_are_read_alone(corpus: tuple[Cli, Path, dict]) -> None:
    cli, claude, manifest = corpus
    _ingest(cli)
    path, template = _assistant_lines(claude)
    data, sums = _new_calls(template, 25, "append")
    with path.open("ab") as f:
        f.write(data)
    res = _ingest(cli)
    assert res["bytesRead"] == len(data)
    assert res["items"] == 25
    t = _totals(cli)["tokens"]
    assert t["output"] == manifest["dedupTotals"]["outputTokens"] + sums["output"]
    assert t["cacheRead"] == manifest["dedupTotals"]["cacheReadTokens"] + sums["cacheRead"]


def test_partial_last_line_counts_once_after_completion(corpus: tuple[Cli, Path, dict]) -> None:
    cli, claude, manifest = corpus
    _ingest(cli)
    path, template = _assistant_lines(claude)
    data, sums = _new_calls(template, 1, "partial")
    cut = len(data) // 2
    with path.open("ab") as f:
        f.write(data[:cut])  # the agent is in the middle of writing the line
    res = _ingest(cli)
    assert (res["items"], res["malformedLines"], res["bytesRead"]) == (0, 0, 0)
    with path.open("ab") as f:
        f.write(data[cut:])
    res = _ingest(cli)
    assert res["items"] == 1 and res["bytesRead"] == len(data)
    assert _ingest(cli)["items"] == 0
    assert _totals(cli)["tokens"]["output"] == manifest["dedupTotals"]["outputTokens"] + sums["output"]


def test_file_rewritten_shorter_loses_nothing(corpus: tuple[Cli, Path, dict]) -> None:
    cli, claude, manifest = corpus
    _ingest(cli)
    before = _totals(cli)
    path, template = _assistant_lines(claude)
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(lines[: len(lines) // 3]) + b"\n")  # rewritten in place, shorter
    res = _ingest(cli)
    assert res["ok"] and res["items"] == 0  # re-read from the start, every event already stored
    assert _totals(cli) == before
    data, sums = _new_calls(template, 3, "after-rewrite")
    with path.open("ab") as f:
        f.write(data)
    assert _ingest(cli)["items"] == 3
    assert _totals(cli)["tokens"]["output"] == before["tokens"]["output"] + sums["output"]


def test_replaced_file_same_size_is_reread(corpus: tuple[Cli, Path, dict]) -> None:
    # A file replaced by another of the same size (new inode) must not be skipped.
    cli, claude, _manifest = corpus
    _ingest(cli)
    path, template = _assistant_lines(claude)
    data, _ = _new_calls(template, 2, "swap")
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(path.read_bytes() + data)
    tmp.replace(path)
    res = _ingest(cli)
    assert res["items"] == 2


def test_malformed_and_unreadable_are_counted_not_fatal(corpus: tuple[Cli, Path, dict]) -> None:
    cli, claude, manifest = corpus
    path, _ = _assistant_lines(claude)
    with path.open("ab") as f:
        f.write(b'{"type":"assistant","message":{"usage":{"input_tokens": 5,\n')  # truncated JSON
        f.write(b'{"type":"assistant","message":{"usage": "not an object"}}\n')
    bad = claude / "projects" / "locked" / "x.jsonl"
    bad.parent.mkdir()
    bad.write_text("{}\n")
    bad.chmod(0)
    try:
        res = _ingest(cli)
    finally:
        bad.chmod(0o600)
    assert res["ok"]
    assert res["malformedLines"] >= 1
    import os

    if os.geteuid() != 0:  # root can read a mode-0 file
        assert any("unreadable" in p for p in res["problems"])
    assert _totals(cli)["tokens"]["total"] == manifest["dedupTotals"]["totalTokens"]


@pytest.mark.slow
def test_kill_9_during_ingest_then_exact(tmp_path: Path) -> None:
    claude = tmp_path / ".claude"
    manifest = gen_corpus(claude, files=60, assistant_lines=30000, seed=5, dup_rate=0.6, resume_rate=0.3)
    cli = Cli(tmp_path, claude=claude)
    cli.env["TOKENDASH_INGEST_BATCH_EVENTS"] = "500"  # many commits per pass, so a kill lands between them
    cli.run("ingest")
    expected = _totals(cli)
    assert expected["tokens"]["total"] == manifest["dedupTotals"]["totalTokens"]
    rows = _count(cli.home)

    partial = []
    # Kill at points defined by what the store holds (not by the clock, which a loaded machine skews):
    # before anything is committed, then after about a quarter, half and three quarters of the rows.
    for i, frac in enumerate((0.0, 0.25, 0.5, 0.75)):
        cli.home = tmp_path / f"home{i}"
        cli.env["TOKENDASH_HOME"] = str(cli.home)
        p = cli.popen("ingest")
        deadline = time.monotonic() + 60
        while p.poll() is None and time.monotonic() < deadline:
            n = _count(cli.home)
            if (frac == 0.0 and n == 0 and (cli.home / "tokendash.db").exists()) or (frac and n >= rows * frac):
                break
            time.sleep(0.002)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        partial.append(_count(cli.home))
        cli.run("ingest")  # resumes from the last committed batch
        assert _totals(cli) == expected, f"kill at {frac:.0%} of the rows"
        assert _ingest(cli)["items"] == 0
    # The kills really landed mid-pass: some left a store with part of the events committed.
    assert any(0 < n < rows for n in partial), partial


def _count(home: Path) -> int:
    """Committed events, read the way another process sees them (-1 while there is no schema yet)."""
    import sqlite3

    db = home / "tokendash.db"
    if not db.exists():
        return -1
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as c:
            return c.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0]
    except sqlite3.Error:
        return -1
