"""SPEC §5 rules that the corpus tests do not isolate: sidechain vs main, ``<synthetic>``, the store
outliving deleted logs, subscription sources left out of spend, relative periods."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support import Cli


def _line(msg_id: str, req: str, ts: str, *, out: int, sidechain: bool = False, model: str = "claude-sonnet-4-5-20250929",
          cwd: str = "/home/u/proj") -> str:
    return json.dumps({
        "parentUuid": None, "isSidechain": sidechain, "userType": "external", "cwd": cwd,
        "sessionId": "s-1", "version": "2.1.3", "type": "assistant", "uuid": f"u-{msg_id}-{out}",
        "timestamp": ts, "requestId": req,
        "message": {"model": model, "id": msg_id, "type": "message", "role": "assistant", "content": [],
                    "usage": {"input_tokens": 10, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 1000,
                              "output_tokens": out, "service_tier": "standard"}},
    }, separators=(",", ":"))


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def test_dedupe_sidechain_and_synthetic(tmp_path: Path, backend_url: str | None) -> None:
    claude = tmp_path / ".claude"
    ts = "2026-09-01T10:00:00.000Z"
    _write(claude / "projects" / "-home-u-proj" / "main.jsonl", [
        _line("msg_a", "req_a", ts, out=5),
        _line("msg_a", "req_a", ts, out=50),  # streaming: the later, larger line wins
        _line("msg_b", "req_b", ts, out=7),
        _line("msg_s", "req_s", ts, out=999, model="<synthetic>"),  # not usage
    ])
    # A subagent replay of msg_b with a larger total loses to the main-chain entry (ccusage 20).
    _write(claude / "projects" / "-home-u-proj" / "s-1" / "subagents" / "agent-1.jsonl", [
        _line("msg_b", "req_b", ts, out=700, sidechain=True),
        _line("msg_c", "req_c", ts, out=3, sidechain=True),
    ])
    cli = Cli(tmp_path, claude=claude, database_url=backend_url)
    cli.run("ingest")
    t = cli.json("report", "daily", "--tz", "UTC")["totals"]
    assert t["requests"] == 3
    assert t["tokens"]["output"] == 50 + 7 + 3
    rows = cli.json("report", "daily", "--tz", "UTC", "--by", "project")["rows"]
    assert [r["project"] for r in rows] == ["proj"]


def test_store_outlives_deleted_and_rotated_logs(tmp_path: Path, backend_url: str | None) -> None:
    claude = tmp_path / ".claude"
    f = claude / "projects" / "-home-u-proj" / "old.jsonl"
    _write(f, [_line("msg_1", "req_1", "2026-08-01T00:00:00Z", out=11), _line("msg_2", "req_2", "2026-08-02T00:00:00Z", out=22)])
    cli = Cli(tmp_path, claude=claude, database_url=backend_url)
    cli.run("ingest")
    before = cli.json("report", "daily", "--tz", "UTC")
    f.unlink()  # the agent's 30-day cleanup
    cli.run("ingest")
    assert cli.json("report", "daily", "--tz", "UTC") == before
    _write(f, [_line("msg_3", "req_3", "2026-08-03T00:00:00Z", out=33)])  # a new file at the same path
    cli.run("ingest")
    assert cli.json("report", "daily", "--tz", "UTC")["totals"]["tokens"]["output"] == 66


def test_subscription_source_is_shown_but_not_spent(tmp_path: Path) -> None:
    claude = tmp_path / ".claude"
    now = datetime.now(UTC).replace(microsecond=0)
    since_midnight = now - now.replace(hour=0, minute=0, second=0)
    ts = (now - min(timedelta(minutes=5), since_midnight / 2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")  # today, UTC
    _write(claude / "projects" / "-home-u-proj" / "a.jsonl", [_line("msg_1", "req_1", ts, out=1000)])
    cli = Cli(tmp_path, claude=claude)
    cli.env["TOKENDASH_TIMEZONE"] = "UTC"
    cli.run("ingest")
    metered = cli.json("status")
    assert metered["periods"]["today"]["costUsd"] > 0
    cli.home.joinpath("config.toml").write_text('[sources.claude-code]\nbilling = "subscription"\n')
    sub = cli.json("status")
    assert sub["periods"]["today"]["costUsd"] == 0
    # Still visible at its API-equivalent value in the usage report.
    assert cli.json("report", "daily")["totals"]["costUsd"] == metered["periods"]["today"]["costUsd"]


def test_relative_periods(tmp_path: Path) -> None:
    claude = tmp_path / ".claude"
    now = datetime.now(UTC)
    lines = [_line(f"msg_{d}", f"req_{d}", (now - timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%S.000Z"), out=d + 1)
             for d in (0, 1, 2, 10, 40)]
    _write(claude / "projects" / "-home-u-proj" / "a.jsonl", lines)
    cli = Cli(tmp_path, claude=claude)
    cli.run("ingest")

    def out(*a: str) -> int:
        return cli.json("report", "daily", "--tz", "UTC", *a)["totals"]["tokens"]["output"]

    assert out("--since", "today") == 1
    assert out("--since", "yesterday", "--until", "yesterday") == 2
    assert out("--since", "3d") == 1 + 2 + 3
    assert out("--since", "30d") == 1 + 2 + 3 + 11
    assert out("--since", "all") == 1 + 2 + 3 + 11 + 41
