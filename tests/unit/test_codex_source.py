"""The Codex source on rollouts written the way Codex writes them (local-sources.md §3): cumulative
``total_token_usage`` turned into deltas, re-emitted events, ``info: null``, model from
``turn_context`` with a flagged fallback, fork replays, archives, rate-limit and credit snapshots,
incremental reads, and the whole path through the store and the ``tokendash`` CLI.

Every expected number below is worked out by hand in the comments next to the lines that produce it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.support import Cli
from tokendash.ingest import IngestResult, ingest_source
from tokendash.pricing.prices import PriceBook
from tokendash.sources.codex import CodexSource
from tokendash.store.db import open_store
from tokendash.store.repo import Store

A = "0199a3f0-1111-7aaa-8000-00000000000a"
B = "0199a3f0-2222-7bbb-8000-00000000000b"
C = "01991b2c-3333-7ccc-8000-00000000000c"
F = "0199a3f0-4444-7fff-8000-00000000000f"

PATH_A = f"sessions/2026/05/13/rollout-2026-05-13T09-00-00-{A}.jsonl"
PATH_F = f"sessions/2026/05/13/rollout-2026-05-13T11-00-00-{F}.jsonl"
PATH_B = f"archived_sessions/rollout-2026-05-14T10-00-00-{B}.jsonl"
PATH_C = f"sessions/2025/09/05/rollout-2025-09-05T08-00-00-{C}.jsonl"


def rl(line: dict[str, Any]) -> str:
    # Codex writes compact JSON, one RolloutLine per line: timestamp, then the tagged item.
    return json.dumps(line, separators=(",", ":"))


def item(ts: str, kind: str, payload: dict[str, Any]) -> str:
    return rl({"timestamp": ts, "type": kind, "payload": payload})


def meta(ts: str, sid: str, cwd: str, **extra: Any) -> str:
    return item(ts, "session_meta", {"id": sid, "timestamp": ts, "cwd": cwd, "originator": "codex_cli_rs",
                                     "cli_version": "0.58.0", "instructions": None, "source": "cli",
                                     "model_provider": "openai", **extra})


def turn(ts: str, model: str, cwd: str = "/home/dev/alpha") -> str:
    return item(ts, "turn_context", {"cwd": cwd, "approval_policy": "on-request",
                                     "sandbox_policy": {"mode": "workspace-write"}, "model": model,
                                     "effort": "medium", "summary": "auto"})


def user_msg(ts: str, textv: str) -> str:
    return item(ts, "response_item", {"type": "message", "role": "user",
                                      "content": [{"type": "input_text", "text": textv}]})


def usage(i: int, c: int, o: int, r: int, t: int) -> dict[str, int]:
    return {"input_tokens": i, "cached_input_tokens": c, "output_tokens": o, "reasoning_output_tokens": r,
            "total_tokens": t}


def limits(primary: float, secondary: float = 40.0, **extra: Any) -> dict[str, Any]:
    return {"primary": {"used_percent": primary, "window_minutes": 300, "resets_at": 1778670000},
            "secondary": {"used_percent": secondary, "window_minutes": 10080, "resets_at": 1779100000}, **extra}


def tc(ts: str, total: dict[str, int] | None, last: dict[str, int] | None = None,
       rate: dict[str, Any] | None = None) -> str:
    info = None if total is None else {"total_token_usage": total, "last_token_usage": last or total,
                                       "model_context_window": 272000}
    return item(ts, "event_msg", {"type": "token_count", "info": info, "rate_limits": rate})


def session_a() -> list[str]:
    return [
        meta("2026-05-13T09:00:00.000Z", A, "/home/dev/alpha"),
        user_msg("2026-05-13T09:00:01.000Z", "fix the tests"),
        turn("2026-05-13T09:00:01.100Z", "gpt-5-codex"),
        tc("2026-05-13T09:00:01.200Z", None, rate=limits(7.0)),  # info: null → snapshot only
        # T1: total == input + output, so reasoning (40) is inside output → in 800, cached 200, out 100
        tc("2026-05-13T09:01:00.000Z", usage(1000, 200, 100, 40, 1100), rate=limits(7.0)),
        tc("2026-05-13T09:01:00.500Z", usage(1000, 200, 100, 40, 1100), rate=limits(7.0)),  # re-emit
        # T2: delta in 2000 (cached 1300) → in 700, cached 1300, out 150, reasoning 50
        tc("2026-05-13T09:02:00.000Z", usage(3000, 1500, 250, 90, 3250), usage(2000, 1300, 150, 50, 2150),
           rate=limits(9.0)),
        turn("2026-05-13T09:03:00.000Z", "gpt-5"),
        # T3: delta in 1500 (cached 1000) → in 500, cached 1000, out 150, reasoning 0; model gpt-5
        tc("2026-05-13T09:04:00.000Z", usage(4500, 2500, 400, 90, 4900), usage(1500, 1000, 150, 0, 1650),
           rate=limits(9.0)),
        tc("2026-05-13T09:04:01.000Z", None, rate=limits(9.0)),  # info null again, unchanged limits
    ]


def session_f() -> list[str]:
    """A fork of A: its own header, A's header and A's history up to T2 replayed at fork time, then
    its own turn, whose counter goes on from A's total."""
    fork_ts = "2026-05-13T11:00:00.000Z"
    replay = [json.loads(x) for x in session_a()[:7]]
    for o in replay:
        o["timestamp"] = fork_ts
    return [
        meta(fork_ts, F, "/home/dev/alpha", forked_from_id=A),
        *[rl(o) for o in replay],
        turn("2026-05-13T11:05:00.000Z", "gpt-5-codex"),
        # own: total (5000, 2000, 300) − A's T2 (3000, 1500, 250) → in 1500, cached 500, out 50
        tc("2026-05-13T11:06:00.000Z", usage(5000, 2000, 300, 90, 5300), usage(2000, 500, 50, 0, 2050),
           rate=limits(55.0)),
    ]


def session_b() -> list[str]:
    return [
        meta("2026-05-14T10:00:00.000Z", B, "/home/dev/beta"),
        turn("2026-05-14T10:00:01.000Z", "gpt-5-mini", cwd="/home/dev/beta"),
        # T1: total == in + out + reasoning, so reasoning is billed on top → in 2000, out 300+200
        tc("2026-05-14T10:01:00.000Z", usage(2000, 0, 300, 200, 2500), rate=limits(20.0)),
        '{"timestamp":"2026-05-14T10:01:30.000Z","type":"event_msg","payload":{"type":"token_count","info":{',
        # T2: delta in 3000 (cached 1000), out 100, reasoning 60 → in 2000, cached 1000, out 160
        tc("2026-05-14T10:02:00.000Z", usage(5000, 1000, 400, 260, 5660), usage(3000, 1000, 100, 60, 3160),
           rate=limits(20.0, plan_type="plus",
                       credits={"has_credits": True, "unlimited": False, "balance": "12.50"})),
    ]


def session_c() -> list[str]:
    """Early-September-2025 shape: no turn_context, relative reset times."""
    old = {"primary": {"used_percent": 3.0, "window_minutes": 300, "resets_in_seconds": 600}}
    return [
        meta("2025-09-05T08:00:00.000Z", C, "/home/dev/gamma"),
        tc("2025-09-05T08:01:00.000Z", usage(600, 100, 50, 0, 650), rate=old),  # in 500, cached 100, out 50
    ]


# Hand totals: (input, cache_read, output, reasoning) per model and per day.
BY_MODEL = {
    "gpt-5-codex": (800 + 700 + 1500, 200 + 1300 + 500, 100 + 150 + 50, 40 + 50),
    "gpt-5": (500 + 500, 1000 + 100, 150 + 50, 0),
    "gpt-5-mini": (2000 + 2000, 1000, 500 + 160, 200 + 60),
}
BY_DAY = {
    "2025-09-05": (500, 100, 50),
    "2026-05-13": (800 + 700 + 500 + 1500, 200 + 1300 + 1000 + 500, 100 + 150 + 150 + 50),
    "2026-05-14": (4000, 1000, 660),
}
BY_SESSION = {A: (2000, 2500, 400), F: (1500, 500, 50), B: (4000, 1000, 660), C: (500, 100, 50)}


def write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def codex_home(tmp_path: Path) -> Path:
    home = tmp_path / ".codex"
    write(home / PATH_A, session_a())
    write(home / PATH_F, session_f())
    write(home / PATH_B, session_b())
    write(home / PATH_C, session_c())
    # An archived copy of a session still under sessions/: the live one wins, the copy is not read.
    write(home / "archived_sessions" / Path(PATH_A).name, session_a())
    return home


def new_store(tmp_path: Path, url: str | None = None) -> Store:
    """``url``: the ``backend_url`` fixture (None: a SQLite file)."""
    return Store(open_store(url or f"sqlite:///{tmp_path / 'store.db'}"), host_id="test-host")


def run(store: Store, home: Path) -> IngestResult:
    res = ingest_source(store, PriceBook(), CodexSource(home))
    assert res.ok, res.error
    return res


def sums(store: Store, by: str) -> dict[Any, tuple[int, ...]]:
    with store.engine.connect() as c:
        rows = c.execute(text(
            f"SELECT {by}, SUM(input), SUM(cache_read), SUM(output), SUM(reasoning) FROM usage_events "
            f"WHERE source = 'codex' GROUP BY {by}"
        )).all()
    return {r[0]: tuple(int(x) for x in r[1:]) for r in rows}


def test_deltas_forks_fallback_and_snapshots(tmp_path: Path, codex_home: Path, backend_url: str | None) -> None:
    store = new_store(tmp_path, backend_url)
    res = run(store, codex_home)
    assert res.files == 4  # the archived copy of A is left out
    assert res.malformed_lines == 1 and "line 4" in res.problems[0] and PATH_B in res.problems[0]
    # A's 3 calls + F's own + F's 2 replays (same keys as A's) + B's 2 + C's 1; 7 rows stored.
    assert res.events_seen == 9
    assert store.count_events() == 7

    assert sums(store, "model") == BY_MODEL
    assert {k: v[:3] for k, v in sums(store, "session").items()} == BY_SESSION
    assert {k: v[:3] for k, v in sums(store, "project").items()} == {
        "alpha": (3500, 3000, 450), "beta": (4000, 1000, 660), "gamma": (500, 100, 50)}
    with store.engine.connect() as c:
        rows = c.execute(text("SELECT model, model_fallback, provider, cost_source, session, ts_ms "
                              "FROM usage_events ORDER BY ts_ms")).all()
    assert {(r.model, bool(r.model_fallback)) for r in rows if r.session == C} == {("gpt-5", True)}
    assert not any(r.model_fallback for r in rows if r.session != C)
    assert {r.provider for r in rows} == {"openai"} and {r.cost_source for r in rows} == {"estimated"}
    # The replayed copies lost to the originals: A's events keep A's own time, not the fork's.
    assert sorted(r.ts_ms for r in rows if r.session == A)[-1] < 1778670000000  # 2026-05-13T11:00Z

    rate = store.latest_snapshots("codex.rate_limits")
    assert len(rate) == 1 and rate[0]["source"] == "codex"
    assert rate[0]["data"]["planType"] == "plus"
    assert rate[0]["data"]["primary"] == {"usedPercent": 20.0, "windowMinutes": 300, "resetsAt": 1778670000}
    assert rate[0]["data"]["secondary"]["windowMinutes"] == 10080
    credits = store.latest_snapshots("codex.credits")
    assert [s["data"] for s in credits] == [{"hasCredits": True, "unlimited": False, "balance": "12.50"}]
    with store.engine.connect() as c:
        snaps = c.execute(text("SELECT ts_ms, data FROM snapshots WHERE kind = 'codex.rate_limits' "
                               "ORDER BY ts_ms")).all()
    # A: info-null 7 % and the change to 9 %; B: 20 % and the plan type; C: 3 %. Unchanged repeats
    # and the fork's replayed readings are not stored.
    assert [json.loads(s.data)["primary"]["usedPercent"] for s in snaps] == [3.0, 7.0, 9.0, 20.0, 20.0]
    c_reset = json.loads(snaps[0].data)["primary"]["resetsAt"]
    assert c_reset == 1757059260 + 600  # 2025-09-05T08:01:00Z + resets_in_seconds


def test_fork_read_alone_still_counts_the_parent_once(tmp_path: Path, codex_home: Path, backend_url: str | None) -> None:
    (codex_home / PATH_A).unlink()
    (codex_home / "archived_sessions" / Path(PATH_A).name).unlink()
    store = new_store(tmp_path, backend_url)
    run(store, codex_home)
    # Without A's own file the replay stands in for it, once, stamped at the fork time.
    assert sums(store, "model")["gpt-5-codex"] == (800 + 700 + 1500, 200 + 1300 + 500, 100 + 150 + 50, 90)
    # Then A turns up (restored from a backup): its originals replace the replayed copies.
    write(codex_home / PATH_A, session_a())
    run(store, codex_home)
    assert sums(store, "model") == BY_MODEL
    assert {k: v[:3] for k, v in sums(store, "session").items()} == BY_SESSION


def test_second_pass_reads_nothing_then_only_appended_lines(tmp_path: Path, codex_home: Path, backend_url: str | None) -> None:
    store = new_store(tmp_path, backend_url)
    run(store, codex_home)
    again = run(store, codex_home)
    assert (again.bytes_read, again.events_seen, again.events_written, again.snapshots) == (0, 0, 0, 0)

    # T4 and its re-emit: delta in 500 (cached 200), out 80, reasoning 30 (5480 == 5000 + 480).
    t4 = tc("2026-05-13T09:10:00.000Z", usage(5000, 2700, 480, 120, 5480), usage(500, 200, 80, 30, 580),
            rate=limits(9.0))
    appended = (t4 + "\n" + t4 + "\n").encode()
    partial = b'{"timestamp":"2026-05-13T09:11:00.000Z","type":"event_msg","payl'
    with open(codex_home / PATH_A, "ab") as f:
        f.write(appended + partial)
    third = run(store, codex_home)
    assert third.bytes_read == len(appended)  # only complete appended lines; the partial one waits
    assert (third.events_seen, third.events_written, third.malformed_lines) == (1, 1, 0)
    assert sums(store, "model")["gpt-5"] == (1000 + 300, 1100 + 200, 200 + 80, 30)

    # The line is completed later: a new call (delta in 100, out 20) counted from the kept state.
    rest = b'oad":' + json.dumps({"type": "token_count", "info": {
        "total_token_usage": usage(5100, 2700, 500, 120, 5600), "last_token_usage": usage(100, 0, 20, 0, 120)},
        "rate_limits": None}, separators=(",", ":")).encode() + b"}\n"
    with open(codex_home / PATH_A, "ab") as f:
        f.write(rest)
    fourth = run(store, codex_home)
    assert fourth.bytes_read == len(partial) + len(rest)
    assert fourth.events_seen == 1
    assert sums(store, "model")["gpt-5"] == (1400, 1300, 300, 30)


def test_archiving_a_session_moves_it_without_double_counting(tmp_path: Path, codex_home: Path, backend_url: str | None) -> None:
    store = new_store(tmp_path, backend_url)
    run(store, codex_home)
    (codex_home / "archived_sessions" / Path(PATH_A).name).unlink()
    shutil.move(codex_home / PATH_A, codex_home / "archived_sessions" / Path(PATH_A).name)
    moved = run(store, codex_home)
    assert moved.events_seen == 3 and moved.events_written == 0
    assert sums(store, "model") == BY_MODEL


def test_agent_files_are_never_written(codex_home: Path, tmp_path: Path, backend_url: str | None) -> None:
    before = {p: p.read_bytes() for p in codex_home.rglob("*") if p.is_file()}
    store = new_store(tmp_path, backend_url)
    run(store, codex_home)
    run(store, codex_home)
    assert {p: p.read_bytes() for p in codex_home.rglob("*") if p.is_file()} == before


def tokendash(cli: Cli, *args: str) -> Any:
    """The installed console script, as a user runs it (``--home`` given explicitly)."""
    exe = Path(sys.executable).with_name("tokendash")
    p = subprocess.run([str(exe), "--home", str(cli.home), *args], env=cli.env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_cli_end_to_end(tmp_path: Path, codex_home: Path) -> None:
    cli = Cli(tmp_path, codex=codex_home)  # Claude Code and OpenClaw point at an empty dir
    out = tokendash(cli, "ingest", "--json")
    (res,) = [r for r in out["results"] if r["source"] == "codex"]
    assert res["ok"] and res["items"] == 7 and res["malformedLines"] == 1 and res["snapshots"] == 6
    assert all(r["items"] == 0 for r in out["results"] if r["source"] != "codex")

    rep = tokendash(cli, "report", "daily", "--json", "--tz", "UTC", "--source", "codex")
    got = {r["date"]: (r["tokens"]["input"], r["tokens"]["cacheRead"], r["tokens"]["output"]) for r in rep["rows"]}
    assert got == BY_DAY
    t = rep["totals"]
    assert t["tokens"]["input"] == 8000 and t["tokens"]["cacheRead"] == 4100 and t["tokens"]["output"] == 1160
    assert t["tokens"]["reasoning"] == 350 and t["tokens"]["cacheWrite"] == 0
    assert t["tokens"]["total"] == 8000 + 4100 + 1160
    assert t["requests"] == 7 and t["unpricedTokens"] == 0 and t["costUsd"] > 0

    again = tokendash(cli, "ingest", "--json")
    (res2,) = [r for r in again["results"] if r["source"] == "codex"]
    assert res2["bytesRead"] == 0 and res2["eventsSeen"] == 0
    assert tokendash(cli, "report", "daily", "--json", "--tz", "UTC", "--source", "codex") == rep
