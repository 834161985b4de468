"""The OpenClaw source on a state directory built the way OpenClaw 2026.9.x lays it out
(openclaw-plugin-api.md §13, openclaw-e2e.md §8, local-sources.md §6): the per-agent SQLite
``transcript_events`` table with some rows zstd-compressed, legacy JSONL with ``.deleted``/``.reset``
archives, a cold ``.jsonl.zst``, and the JSON5 config with model prices. Checked: per-agent totals,
synthetic rows ignored, OpenClaw's reported cost used, the agent's files untouched, incremental reads,
and the whole path through the store and the ``tokendash`` CLI.

Every expected number below is worked out by hand in the comments next to the rows that produce it."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import zstandard
from sqlalchemy import text

from tests.support import Cli
from tokendash.config.openclaw import load_openclaw_config, price_overrides
from tokendash.ingest import IngestResult, ingest_source
from tokendash.pricing.prices import PriceBook
from tokendash.sources.base import UsageEvent
from tokendash.sources.openclaw import OpenClawSource, default_state_dirs
from tokendash.store.db import open_store
from tokendash.store.repo import Store

# The live schema (schema 23), the parts tokendash reads.
SCHEMA = """
CREATE TABLE transcript_events (
  session_id TEXT NOT NULL, seq INTEGER NOT NULL,
  event_json TEXT, created_at INTEGER NOT NULL,
  event_zstd BLOB, event_utf8_bytes INTEGER, navigation_json TEXT,
  PRIMARY KEY (session_id, seq),
  CHECK ((event_json IS NOT NULL AND event_zstd IS NULL) OR (event_json IS NULL AND event_zstd IS NOT NULL))
) STRICT;
CREATE TABLE session_windows (session_id TEXT PRIMARY KEY, session_key TEXT NOT NULL, model_provider TEXT,
  model TEXT, channel TEXT, started_at INTEGER) STRICT;
CREATE TABLE session_nodes (session_key TEXT PRIMARY KEY, current_session_id TEXT NOT NULL,
  entry_json TEXT NOT NULL) STRICT;
"""

S1 = "6f707dca-949d-43fe-9e7a-93acb5420c63"
S2 = "9a1b2c3d-0000-4000-8000-000000000002"
U1 = "11111111-aaaa-4000-8000-000000000001"
U2 = "22222222-aaaa-4000-8000-000000000002"
U3 = "33333333-aaaa-4000-8000-000000000003"
U4 = "44444444-aaaa-4000-8000-000000000004"
COLD = hashlib.sha256(b"cold").hexdigest()

CONFIG = """// OpenClaw config (JSON5)
{
  gateway: { mode: "local", port: 18789, },
  models: {
    mode: "merge",
    providers: {
      fakellm: {
        baseUrl: "http://127.0.0.1:18791/v1",
        api: "openai-completions",
        models: [
          { id: "fake-model", name: "Fake", cost: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 }, },
        ],
      },
      ollama: { models: [ { id: "llama3", cost: "free" } ] },  // not numbers: left out
    },
  },
}
"""


def compact(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


def header(sid: str, ts: str, cwd: str) -> dict[str, Any]:
    return {"type": "session", "version": 4, "id": sid, "timestamp": ts, "cwd": cwd}


def user(eid: str, ts: str, content: str) -> dict[str, Any]:
    return {"type": "message", "id": eid, "parentId": None, "timestamp": ts,
            "message": {"role": "user", "content": content, "timestamp": 1781046400000}}


def assistant(eid: str, ts_ms: int, usage: tuple[int, int, int, int], provider: str | None = "anthropic",
              model: str | None = "claude-sonnet-4-5", cost: float = 0, textv: str = "ok",
              **extra: Any) -> dict[str, Any]:
    inp, out, cr, cw = usage
    msg: dict[str, Any] = {
        "role": "assistant", "content": [{"type": "text", "text": textv}], "api": "anthropic-messages",
        "usage": {"input": inp, "output": out, "cacheRead": cr, "cacheWrite": cw, "totalTokens": inp + out + cr + cw,
                  "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": cost}, **extra},
        "stopReason": "stop", "timestamp": ts_ms, "responseId": f"resp_{eid}",
    }
    if provider is not None:
        msg["provider"] = provider
    if model is not None:
        msg["model"] = model
    return {"type": "message", "id": eid, "parentId": None, "timestamp": "2026-06-09T23:07:09.309Z", "message": msg}


def synthetic(eid: str, ts_ms: int, textv: str = "tokens: …") -> dict[str, Any]:
    # Commands and injected messages; given numbers here so that counting them would show.
    ev = assistant(eid, ts_ms, (10, 10, 0, 0), provider="openclaw", model="gateway-injected", textv=textv)
    ev["message"]["api"] = "openai-responses"
    return ev


def put(conn: sqlite3.Connection, sid: str, seq: int, event: dict[str, Any] | str, created: int = 1781046400000) -> None:
    """One row as OpenClaw stores it: JSON text, or a level-1 zstd frame from 1 KiB on."""
    raw = event if isinstance(event, str) else compact(event)
    data = raw.encode()
    if len(data) >= 1024 and not isinstance(event, str):
        blob = zstandard.ZstdCompressor(level=1, write_content_size=True, write_checksum=True).compress(data)
        conn.execute("INSERT INTO transcript_events (session_id, seq, event_json, created_at, event_zstd, "
                     "event_utf8_bytes) VALUES (?, ?, NULL, ?, ?, ?)", (sid, seq, created, blob, len(data)))
    else:
        conn.execute("INSERT INTO transcript_events (session_id, seq, event_json, created_at) VALUES (?, ?, ?, ?)",
                     (sid, seq, raw, created))


def build_main_db(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SCHEMA)
    conn.execute("INSERT INTO session_windows VALUES (?, 'agent:main:main', 'anthropic', 'claude-sonnet-4-5', "
                 "'webchat', 1781046400000)", (S1,))
    conn.execute("INSERT INTO session_windows VALUES (?, 'agent:main:telegram:42', 'fakellm', 'fake-model', "
                 "'telegram', 1781046500000)", (S2,))
    long_text = "A long reply. " * 200  # ~2.8 KB: stored as zstd
    rows_s1: list[dict[str, Any] | str] = [
        header(S1, "2026-06-09T23:00:00.000Z", "/home/user/project"),
        user("u-1", "2026-06-09T23:00:01.000Z", "/tokens hello"),
        synthetic("syn-1", 1781046401000),
        assistant("a-1", 1781046413593, (1, 773, 49913, 2569)),  # estimated (cost.total 0)
        assistant("a-2", 1781046500000, (120, 900, 50000, 1000), textv=long_text, cacheWrite1h=400),  # zstd
        synthetic("syn-2", 1781046501000, textv=long_text),  # zstd and synthetic
    ]
    for seq, ev in enumerate(rows_s1):
        put(conn, S1, seq, ev)
    rows_s2: list[dict[str, Any] | str] = [
        header(S2, "2026-06-10T08:00:00.000Z", "/srv/bots/helper"),
        {"type": "model_change", "id": "mc-1", "parentId": None, "timestamp": "2026-06-10T08:00:00.500Z",
         "provider": "fakellm", "modelId": "fake-model"},
        # OpenClaw's own cost (from the config table): used as reported.
        assistant("b-1", 1781078401000, (1034, 56, 200, 0), provider="fakellm", model="fake-model", cost=0.004002),
        "{not json",  # malformed row
        # No provider/model on the message: from the model_change; cost 0 → priced by the override.
        assistant("b-2", 1781078402000, (1034, 56, 200, 0), provider=None, model=None),
    ]
    for seq, ev in enumerate(rows_s2):
        put(conn, S2, seq, ev)
    # A compressed row whose blob is not a zstd frame: malformed, not fatal.
    conn.execute("INSERT INTO transcript_events (session_id, seq, event_json, created_at, event_zstd) "
                 "VALUES (?, 99, NULL, 0, ?)", (S2, b"\x00not zstd"))
    conn.commit()
    conn.close()  # the last connection checkpoints: no -wal left, as after a gateway stop


def write_lines(path: Path, events: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(compact(e) + "\n" for e in events))


def build_ops_legacy(sessions: Path) -> None:
    write_lines(sessions / f"{U1}.jsonl", [
        header(U1, "2026-06-01T10:00:00.000Z", "/home/user/ops"),
        assistant("o-1", 1780308000000, (500, 100, 0, 0), provider="openai", model="gpt-5"),
        synthetic("o-syn", 1780308001000),
    ])
    write_lines(sessions / f"{U2}.jsonl.deleted.2026-06-02T00-00-00.000Z", [
        header(U2, "2026-06-01T11:00:00.000Z", "/home/user/ops"),
        assistant("o-2", 1780311600000, (10, 20, 300, 40)),
    ])
    write_lines(sessions / f"{U3}.jsonl.reset.2026-06-03T00-00-00.000Z", [
        header(U3, "2026-06-01T12:00:00.000Z", "/home/user/ops"),
        {"type": "custom", "customType": "model-snapshot", "id": "ms-1", "parentId": None,
         "timestamp": "2026-06-01T12:00:00.100Z", "data": {"provider": "openai", "modelId": "gpt-5"}},
        assistant("o-3", 1780315200000, (400, 50, 0, 0), provider=None, model=None),
    ])
    (sessions / "sessions.json").write_text(json.dumps({"agent:ops:main": {"sessionId": U1}}))
    cold = "".join(compact(e) + "\n" for e in [
        header(U4, "2026-05-20T09:00:00.000Z", "/home/user/ops"),
        assistant("o-4", 1779267600000, (700, 70, 0, 0), provider="openai", model="gpt-5-mini"),
    ]).encode()
    half = cold.index(b"\n") + 1
    cctx = zstandard.ZstdCompressor(level=3)
    (sessions / "cold").mkdir()
    (sessions / "cold" / f"{COLD}.jsonl.zst").write_bytes(cctx.compress(cold[:half]) + cctx.compress(cold[half:]))


# Hand totals per agent: (input, output, cacheRead, cacheWrite).
MAIN = (1 + 120 + 1034 + 1034, 773 + 900 + 56 + 56, 49913 + 50000 + 200 + 200, 2569 + 1000)
OPS = (500 + 10 + 400 + 700, 100 + 20 + 50 + 70, 300, 40)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    root = tmp_path / ".openclaw"
    build_main_db(root / "agents" / "main" / "agent" / "openclaw-agent.sqlite")
    # A JSONL copy of an S1 event that was imported into the database: still one event.
    write_lines(root / "agents" / "main" / "sessions" / f"{S1}.jsonl.deleted.2026-06-10T00-00-00.000Z", [
        header(S1, "2026-06-09T23:00:00.000Z", "/home/user/project"),
        assistant("a-1", 1781046413593, (1, 773, 49913, 2569)),
    ])
    build_ops_legacy(root / "agents" / "ops" / "sessions")
    (root / "openclaw.json").write_text(CONFIG)
    return root


def snapshot_files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def new_store(tmp_path: Path) -> Store:
    return Store(open_store(f"sqlite:///{tmp_path / 'store.db'}"), host_id="test-host")


def run(store: Store, root: Path, prices: PriceBook | None = None) -> IngestResult:
    res = ingest_source(store, prices or PriceBook(), OpenClawSource(root))
    assert res.ok, res.error
    return res


def per_agent(store: Store) -> dict[str, tuple[int, ...]]:
    with store.engine.connect() as c:
        rows = c.execute(text("SELECT agent, SUM(input), SUM(output), SUM(cache_read), SUM(cache_write) "
                              "FROM usage_events WHERE source = 'openclaw' GROUP BY agent")).all()
    return {r[0]: tuple(int(x) for x in r[1:]) for r in rows}


def test_per_agent_totals_synthetic_zstd_and_archives(tmp_path: Path, state_dir: Path) -> None:
    before = snapshot_files(state_dir)
    store = new_store(tmp_path)
    res = run(store, state_dir)
    assert res.files == 6  # 1 database, 4 JSONL files (hot and archives), 1 cold archive; not sessions.json
    assert res.malformed_lines == 2
    assert any("seq 3" in p for p in res.problems) and any("seq 99" in p for p in res.problems)
    assert store.count_events() == 8
    assert per_agent(store) == {"main": MAIN, "ops": OPS}
    assert snapshot_files(state_dir) == before  # nothing written, nothing created (no -wal, no -shm)

    with store.engine.connect() as c:
        rows = {r.key: r for r in c.execute(text(
            "SELECT dedupe_key AS key, provider, model, session, channel, project, cache_write_1h, rank, "
            "cost_source, cost_nusd, model_fallback FROM usage_events")).all()}
    assert set(rows) == {f"main:{S1}:a-1", f"main:{S1}:a-2", f"main:{S2}:b-1", f"main:{S2}:b-2",
                         f"ops:{U1}:o-1", f"ops:{U2}:o-2", f"ops:{U3}:o-3", f"ops:{U4}:o-4"}
    a1 = rows[f"main:{S1}:a-1"]  # read from the database and from the archive; the database copy won
    assert (a1.session, a1.channel, a1.project, a1.rank) == ("agent:main:main", "webchat", "project", 1)
    assert rows[f"main:{S1}:a-2"].cache_write_1h == 400
    b1, b2 = rows[f"main:{S2}:b-1"], rows[f"main:{S2}:b-2"]
    assert (b1.cost_source, b1.cost_nusd) == ("reported", 4_002_000)
    assert (b2.provider, b2.model, b2.model_fallback) == ("fakellm", "fake-model", False)
    assert b2.cost_source == "unpriced"  # no override given to this PriceBook; never a silent $0
    assert (b2.session, b2.channel, b2.project) == ("agent:main:telegram:42", "telegram", "helper")
    assert (rows[f"ops:{U3}:o-3"].provider, rows[f"ops:{U3}:o-3"].model) == ("openai", "gpt-5")
    assert rows[f"ops:{U4}:o-4"].model == "gpt-5-mini" and rows[f"ops:{U4}:o-4"].session == U4
    assert rows[f"ops:{U1}:o-1"].project == "ops" and rows[f"ops:{U1}:o-1"].rank == 0
    assert not any(r.provider == "openclaw" or r.model == "gateway-injected" for r in rows.values())


def test_second_pass_reads_nothing_then_only_new_rows_and_lines(tmp_path: Path, state_dir: Path) -> None:
    store = new_store(tmp_path)
    run(store, state_dir)
    again = run(store, state_dir)
    assert (again.bytes_read, again.events_seen, again.events_written, again.malformed_lines) == (0, 0, 0, 0)

    # The gateway is running (its connection holds the WAL) and writes a new turn and a new session.
    db = state_dir / "agents" / "main" / "agent" / "openclaw-agent.sqlite"
    gw = sqlite3.connect(db)
    new_rows = [assistant("a-3", 1781050000000, (5, 50, 60000, 0)),
                header("s3", "2026-06-10T09:00:00.000Z", "/home/user/other"),
                assistant("c-1", 1781082000000, (7, 70, 0, 700), model="claude-haiku-4-5")]
    put(gw, S1, 6, new_rows[0])
    put(gw, "s3", 0, new_rows[1])
    put(gw, "s3", 1, new_rows[2])
    gw.commit()
    assert db.with_name(db.name + "-wal").exists()
    line = compact(assistant("o-5", 1780308100000, (1, 2, 3, 4), provider="openai", model="gpt-5")) + "\n"
    with open(state_dir / "agents" / "ops" / "sessions" / f"{U1}.jsonl", "a") as f:
        f.write(line)
    third = run(store, state_dir)
    assert third.events_seen == 3 and third.events_written == 3
    assert third.bytes_read == sum(len(compact(r)) for r in new_rows) + len(line)
    assert per_agent(store) == {"main": (MAIN[0] + 12, MAIN[1] + 120, MAIN[2] + 60000, MAIN[3] + 700),
                                "ops": (OPS[0] + 1, OPS[1] + 2, OPS[2] + 3, OPS[3] + 4)}
    with store.engine.connect() as c:
        assert c.execute(text("SELECT project FROM usage_events WHERE dedupe_key = :k"),
                         {"k": f"main:{S1}:a-3"}).scalar_one() == "project"  # from the session header

    # The gateway stops (checkpoint), then deletes a session: nothing new to read, nothing lost.
    gw.close()
    assert run(store, state_dir).events_seen == 0
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM transcript_events WHERE session_id = ?", (S2,))
    conn.commit()
    conn.close()
    gone = run(store, state_dir)
    assert (gone.events_seen, gone.bytes_read) == (0, 0)
    assert per_agent(store)["main"][0] == MAIN[0] + 12


def test_config_prices_and_state_dirs(tmp_path: Path, state_dir: Path) -> None:
    cfg = load_openclaw_config(state_dir)
    assert cfg is not None and cfg["gateway"]["port"] == 18789
    overrides = price_overrides(cfg)
    assert overrides == {("fakellm", "fake-model"): {"input": 3, "output": 15, "cacheRead": 0.3, "cacheWrite": 3.75}}
    assert load_openclaw_config(tmp_path / "nowhere") is None and price_overrides(None) == {}
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "openclaw.json").write_text("{ models: ")
    with pytest.raises(ValueError):
        load_openclaw_config(tmp_path / "bad")

    # The override prices b-2 as OpenClaw itself did (e2e reference: 0.004002 USD).
    store = new_store(tmp_path)
    run(store, state_dir, PriceBook(overrides))
    with store.engine.connect() as c:
        r = c.execute(text("SELECT cost_source, cost_nusd FROM usage_events WHERE dedupe_key = :k"),
                      {"k": f"main:{S2}:b-2"}).one()
    assert (r.cost_source, r.cost_nusd) == ("estimated", 4_002_000)
    ev = UsageEvent(source="openclaw", dedupe_key="k", ts_ms=0, provider="fakellm", model="fake-model",
                    input=1034, output=56, cache_read=200)
    assert Decimal(PriceBook(overrides).price(ev).cost_nusd) / 10**9 == Decimal("0.004002")

    home = tmp_path / "h"
    assert default_state_dirs({"HOME": str(home)}) == [home / ".openclaw", home / ".clawdbot", home / ".moltbot",
                                                       home / ".moldbot"]
    assert default_state_dirs({"HOME": str(home), "OPENCLAW_STATE_DIR": str(state_dir)}) == [state_dir]


def tokendash(cli: Cli, *args: str) -> Any:
    """The installed console script, with ``--home`` given explicitly."""
    exe = Path(sys.executable).with_name("tokendash")
    p = subprocess.run([str(exe), "--home", str(cli.home), *args], env=cli.env, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_cli_end_to_end(tmp_path: Path, state_dir: Path) -> None:
    before = snapshot_files(state_dir)
    cli = Cli(tmp_path, openclaw=state_dir)  # Claude Code and Codex point at an empty dir
    out = tokendash(cli, "ingest", "--json")
    (res,) = [r for r in out["results"] if r["source"] == "openclaw"]
    assert res["ok"] and res["items"] == 8 and res["malformedLines"] == 2

    rep = tokendash(cli, "report", "daily", "--json", "--tz", "UTC", "--source", "openclaw", "--by", "agent")
    got: dict[str, list[int]] = {}
    for r in rep["rows"]:
        t = got.setdefault(r["agent"], [0, 0, 0, 0])
        for i, k in enumerate(("input", "output", "cacheRead", "cacheWrite")):
            t[i] += r["tokens"][k]
    assert {k: tuple(v) for k, v in got.items()} == {"main": MAIN, "ops": OPS}
    assert rep["totals"]["requests"] == 8 and rep["totals"]["unpricedTokens"] == 0

    # b-1 carries OpenClaw's cost, b-2 is priced from openclaw.json's table: 0.004002 USD each.
    by_model = tokendash(cli, "report", "monthly", "--json", "--tz", "UTC", "--source", "openclaw",
                         "--model", "fake-model")
    assert abs(by_model["totals"]["costUsd"] - 0.008004) < 1e-9
    assert abs(by_model["totals"]["estimatedCostUsd"] - 0.004002) < 1e-9  # b-2 only: b-1's was reported

    again = tokendash(cli, "ingest", "--json")
    (res2,) = [r for r in again["results"] if r["source"] == "openclaw"]
    assert res2["bytesRead"] == 0 and res2["eventsSeen"] == 0
    assert snapshot_files(state_dir) == before


def test_large_database_is_stored_in_several_batches(tmp_path: Path) -> None:
    root = tmp_path / ".openclaw"
    db = root / "agents" / "big" / "agent" / "openclaw-agent.sqlite"
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.executescript(SCHEMA)
    n = 12_000  # per session; two sessions pass the source's batch size
    for sid in ("big-1", "big-2"):
        put(conn, sid, 0, header(sid, "2026-06-01T00:00:00.000Z", "/w/big"))
        for i in range(1, n + 1):
            put(conn, sid, i, assistant(f"e{i}", 1780272000000 + i, (1, 2, 3, 4)))
    conn.commit()
    conn.close()
    batches = list(OpenClawSource(root).poll({}))
    assert sum(len(b.events) for b in batches) == 2 * n and len([b for b in batches if b.events]) >= 2
    store = new_store(tmp_path)
    first = run(store, root)
    assert first.events_written == 2 * n
    assert per_agent(store) == {"big": (2 * n, 4 * n, 6 * n, 8 * n)}
    second = run(store, root)
    assert (second.events_seen, second.bytes_read) == (0, 0)


def test_broken_lines_and_archives_are_counted_not_fatal(tmp_path: Path) -> None:
    sessions = tmp_path / ".openclaw" / "agents" / "x" / "sessions"
    write_lines(sessions / f"{U1}.jsonl", [assistant("x-1", 1780308000000, (1, 1, 1, 1))])
    with open(sessions / f"{U1}.jsonl", "a") as f:
        f.write('{"type":"message","message":{"role":"assistant","usage":{"input":\n')
    (sessions / "cold").mkdir()
    (sessions / "cold" / "broken.jsonl.zst").write_bytes(b"not a zstd frame")
    store = new_store(tmp_path)
    res = run(store, tmp_path / ".openclaw")
    assert (res.events_written, res.malformed_lines) == (1, 2)
    assert any("line 2" in p for p in res.problems) and any("zstd archive" in p for p in res.problems)
    assert run(store, tmp_path / ".openclaw").malformed_lines == 0  # not re-read while unchanged
