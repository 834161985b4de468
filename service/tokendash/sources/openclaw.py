"""OpenClaw transcripts, per agent, under ``$OPENCLAW_STATE_DIR`` (default ``~/.openclaw``, plus the
legacy roots ``~/.clawdbot``, ``~/.moltbot`` and ``~/.moldbot`` when they exist):

* ``agents/<agentId>/agent/openclaw-agent.sqlite``, table ``transcript_events(session_id, seq,
  event_json TEXT, event_zstd BLOB, …)`` (2026.9.x). Each event is stored either as JSON text or as a
  zstd frame, never both. ``session_windows`` gives the session key, channel and model.
* legacy ``agents/<agentId>/sessions/<uuid>.jsonl`` and its archives ``<uuid>.jsonl.deleted.<ts>`` and
  ``<uuid>.jsonl.reset.<ts>`` (they can hold most of the cost: openclaw/openclaw#20599);
* cold archives ``agents/<agentId>/sessions/cold/<sha256>.jsonl.zst``.

Every form holds the same events: ``{"type":"session","id","cwd",…}`` headers and
``{"type":"message","id",…,"message":{"role":"assistant","provider","model","usage":{"input",
"output","cacheRead","cacheWrite","cacheWrite1h"?,"reasoningTokens"?,"totalTokens","cost":{"total",…}},
"timestamp":<ms>}}``. ``usage.input`` is uncached input; the cache classes are separate. Synthetic rows
(``provider: "openclaw"`` / ``model: "gateway-injected"``: commands, injected messages) are not usage.
The model of a message without one comes from ``model_change`` or ``custom``/``model-snapshot``
entries, else from ``session_windows``. A non-zero ``usage.cost.total`` is OpenClaw's own figure and
is used as the reported cost (SPEC §5 rule 4); zero means unknown, not free.

A row of a run the plugin already recorded live (``message.__openclaw.runId``) supersedes that record
(``sources/runs.py``), so the run counts once.

The dedupe key is agent + session id + event id, so the same event read from the database, a hot
JSONL file, its ``.deleted``/``.reset`` archive after a rename, or a cold archive counts once; the
database copy ranks highest (it carries the session key and channel).

Nothing here writes: the database is opened read-only (``mode=ro``; when no ``-wal`` file exists,
``immutable=1``, because a read-only open of a WAL database would otherwise create ``-wal``/``-shm``
files beside it). A database pass reads only sessions whose highest ``seq`` moved, from the
high-water mark kept in the cursor.
"""

from __future__ import annotations

import io
import math
import os
import sqlite3
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import zstandard

from tokendash.config.openclaw import default_state_dir
from tokendash.sources.base import FileCursor, PollBatch, UsageEvent
from tokendash.sources.claude_code import iso_to_ms
from tokendash.sources.files import Unreadable, read_new_lines, read_whole
from tokendash.sources.runs import superseded_record

SOURCE_ID = "openclaw"
PARSER_VERSION = 1
SQLITE_NAME = "openclaw-agent.sqlite"
LEGACY_ROOTS = (".clawdbot", ".moltbot", ".moldbot")
SYNTHETIC_PROVIDER = "openclaw"
SYNTHETIC_MODEL = "gateway-injected"
RANK_SQLITE = 1
RANK_FILE = 0
BATCH_EVENTS = 20_000
FETCH_ROWS = 2_000
MAX_PROBLEMS = 3

# Lines worth parsing in a JSONL transcript (tool output, the bulk of the bytes, is skipped).
_MARKERS = (b'"usage"', b'"session"', b'model_change', b'model-snapshot')


def default_state_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    env = os.environ if env is None else env
    if (env.get("OPENCLAW_STATE_DIR") or "").strip():
        return [default_state_dir(env)]
    home = Path(env.get("HOME") or Path.home())
    return [default_state_dir(env)] + [home / r for r in LEGACY_ROOTS]


def unzstd(data: bytes) -> bytes:
    """A zstd payload, whether or not its frames record their content size."""
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    return reader.read()


def _positive(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def _ms(v: Any) -> int | None:
    if not _positive(v):
        return None
    return int(v if v > 1e11 else v * 1000)  # seconds in a few odd writers


@dataclass(slots=True)
class Session:
    """What later events of one session need from earlier ones."""

    id: str
    project: str | None = None
    provider: str | None = None
    model: str | None = None

    def observe(self, obj: dict[str, Any]) -> None:
        kind = obj.get("type")
        if kind == "session":
            cwd = obj.get("cwd")
            if isinstance(cwd, str) and cwd.strip("/"):
                self.project = os.path.basename(cwd.rstrip("/"))
        elif kind == "model_change":
            self._model(obj.get("provider"), obj.get("modelId"))
        elif kind == "custom" and obj.get("customType") == "model-snapshot":
            data = obj.get("data")
            if isinstance(data, dict):
                self._model(data.get("provider"), data.get("modelId") or data.get("model"))

    def _model(self, provider: Any, model: Any) -> None:
        if isinstance(provider, str) and provider:
            self.provider = provider
        if isinstance(model, str) and model:
            self.model = model

    def as_state(self) -> dict[str, Any]:
        return {"session": self.id, "project": self.project, "provider": self.provider, "model": self.model}


def usage_event(
    obj: dict[str, Any], sess: Session, agent: str, *, rank: int, label: str | None = None,
    channel: str | None = None, fallback_ts: int = 0,
) -> UsageEvent | None:
    """One transcript entry → an event, or None when it carries no usage."""
    if obj.get("type") != "message":
        sess.observe(obj)
        return None
    msg = obj.get("message")
    if not isinstance(msg, dict) or msg.get("role") != "assistant":
        return None
    usage = msg.get("usage")
    if not isinstance(usage, dict):
        return None
    provider = msg.get("provider") or sess.provider
    model = msg.get("model") or sess.model
    if provider == SYNTHETIC_PROVIDER or model == SYNTHETIC_MODEL:
        return None
    inp, out, cr, cw = (int(usage.get(k) or 0) for k in ("input", "output", "cacheRead", "cacheWrite"))
    if not (inp or out or cr or cw):
        return None
    cost = usage.get("cost")
    total = cost.get("total") if isinstance(cost, dict) else None
    reported = Decimal(str(total)) if _positive(total) else None  # 0 means unknown, not free
    ts = _ms(msg.get("timestamp"))
    if ts is None:
        ts = iso_to_ms(obj["timestamp"]) if isinstance(obj.get("timestamp"), str) else fallback_ts
    event_id = obj.get("id") or msg.get("responseId") or f"ts{ts}"
    return UsageEvent(
        source=SOURCE_ID,
        dedupe_key=f"{agent}:{sess.id}:{event_id}",
        ts_ms=ts,
        provider=str(provider or "unknown"),
        model=str(model or "unknown"),
        input=inp,
        output=out,
        cache_read=cr,
        cache_write=cw,
        cache_write_1h=min(int(usage.get("cacheWrite1h") or 0), cw),
        reasoning=min(int(usage.get("reasoningTokens") or 0), out),
        agent=agent,
        project=sess.project,
        session=label or sess.id,
        channel=channel,
        rank=rank,
        reported_cost_usd=reported,
        model_fallback=not model,
    )


class _Sink:
    """Collects a file's events and its malformed-entry count, with the first few problems."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.events: list[UsageEvent] = []
        self.supersedes: list[tuple[str, str]] = []
        self.malformed = 0
        self.problems: list[str] = []

    def add(self, ev: UsageEvent, obj: dict[str, Any], agent: str, session_id: str) -> None:
        self.events.append(ev)
        meta = obj["message"].get("__openclaw")
        run = meta.get("runId") if isinstance(meta, dict) else None
        if isinstance(run, str) and run:
            self.supersedes.append(superseded_record(agent, session_id, run))

    def bad(self, what: str, e: Exception | str) -> None:
        self.malformed += 1
        if len(self.problems) < MAX_PROBLEMS:
            reason = e if isinstance(e, str) else type(e).__name__
            self.problems.append(f"{self.where}: {what} is malformed ({reason})")

    def into(self, batch: PollBatch) -> None:
        batch.events.extend(self.events)
        batch.supersedes.extend(self.supersedes)
        batch.malformed_lines += self.malformed
        batch.problems.extend(self.problems)


def parse_lines(data: bytes, sess: Session, agent: str, sink: _Sink) -> None:
    for lineno, line in enumerate(data.split(b"\n"), 1):
        if not any(m in line for m in _MARKERS):
            continue
        try:
            obj = orjson.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not an object")
            if obj.get("type") == "session" and isinstance(obj.get("id"), str) and obj["id"]:
                sess.id = obj["id"]
            ev = usage_event(obj, sess, agent, rank=RANK_FILE)
        except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError, KeyError) as e:
            sink.bad(f"line {lineno} of the new data", e)
            continue
        if ev is not None:
            sink.add(ev, obj, agent, sess.id)


def _session_from_name(path: str) -> str:
    # <uuid>.jsonl, <uuid>.jsonl.deleted.<ts>, cold/<sha256>.jsonl.zst; a header line overrides it.
    return os.path.basename(path).split(".jsonl", 1)[0]


def _unzstd_archive(raw: bytes, sink: _Sink) -> bytes:
    try:
        return unzstd(raw)
    except zstandard.ZstdError as e:
        sink.bad("the zstd archive", e)
        return b""


# -- SQLite ------------------------------------------------------------------------------------------


def _is_wal(path: str) -> bool:
    with open(path, "rb") as f:
        header = f.read(20)
    return len(header) == 20 and header[18] == 2 and header[19] == 2


def open_readonly(path: str) -> sqlite3.Connection:
    """A read-only connection that creates no file beside the database."""
    uri = "file:" + urllib.parse.quote(os.path.abspath(path))
    if _is_wal(path) and not os.path.exists(path + "-wal"):
        # No writer has it open: read the file as it is, without creating -wal/-shm.
        return sqlite3.connect(uri + "?mode=ro&immutable=1", uri=True, timeout=5)
    try:
        conn = sqlite3.connect(uri + "?mode=ro", uri=True, timeout=5)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return conn
    except sqlite3.OperationalError:
        # e.g. a read-only directory with no -shm: the last checkpointed state is still readable.
        return sqlite3.connect(uri + "?mode=ro&immutable=1", uri=True, timeout=5)


def _db_stat(path: str) -> tuple[os.stat_result, list[int] | None]:
    st = os.stat(path)
    try:
        w = os.stat(path + "-wal")
        wal: list[int] | None = [w.st_size, w.st_mtime_ns]
    except OSError:
        wal = None
    return st, wal


def _decode_row(event_json: str | None, event_zstd: bytes | None) -> dict[str, Any]:
    if event_json is not None:
        obj = orjson.loads(event_json)
    elif event_zstd is not None:
        obj = orjson.loads(unzstd(event_zstd))
    else:
        raise ValueError("neither event_json nor event_zstd")
    if not isinstance(obj, dict):
        raise ValueError("not an object")
    return obj


class _DbReader:
    """One pass over one agent database, from the per-session ``seq`` high-water marks."""

    def __init__(self, path: str, agent: str, conn: sqlite3.Connection, marks: dict[str, int]) -> None:
        self.path = path
        self.agent = agent
        self.conn = conn
        self.marks = marks
        self.sink = _Sink(path)
        self.bytes = 0

    def windows(self) -> dict[str, tuple[str | None, str | None, str | None, str | None]]:
        """session_id → (session_key, channel, model_provider, model), from what the schema has."""
        cols = {r[1] for r in self.conn.execute("PRAGMA table_info(session_windows)")}
        if "session_id" not in cols:
            return {}
        sel = ", ".join(c if c in cols else "NULL" for c in ("session_key", "channel", "model_provider", "model"))
        return {r[0]: tuple(r[1:]) for r in self.conn.execute(f"SELECT session_id, {sel} FROM session_windows")}

    def changed_sessions(self) -> dict[str, int]:
        """session_id → highest seq, for sessions that have rows past their mark (or were rewritten).
        Marks of sessions no longer in the database are dropped."""
        has_table = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'transcript_events'").fetchone()
        if not has_table:  # a database from before the SQLite transcripts: nothing to read yet
            self.marks.clear()
            return {}
        now = dict(self.conn.execute("SELECT session_id, MAX(seq) FROM transcript_events GROUP BY session_id"))
        for gone in self.marks.keys() - now.keys():
            del self.marks[gone]
        return {s: m for s, m in now.items() if self.marks.get(s) != m}

    def header(self, session_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT event_json, event_zstd FROM transcript_events WHERE session_id = ? ORDER BY seq LIMIT 1",
            (session_id,),
        ).fetchone()
        try:
            return _decode_row(*row) if row else None
        except (orjson.JSONDecodeError, ValueError, zstandard.ZstdError):
            return None  # counted when the row itself is read

    def read(self, session_id: str, top: int, window: tuple[Any, ...] | None) -> Iterator[None]:
        """Read one session's new rows; pauses (yields) whenever the sink holds a batch's worth, with
        the session's mark at the last row read, so a huge session is stored in parts."""
        key, channel, w_provider, w_model = window or (None, None, None, None)
        sess = Session(session_id, provider=w_provider, model=w_model)
        start = self.marks.get(session_id)
        if start is not None and start > top:
            start = None  # the session was rewritten shorter: read it again (keys keep it single)
        if start is not None:
            head = self.header(session_id)
            if head is not None:
                sess.observe(head)
        cur = self.conn.execute(
            "SELECT seq, event_json, event_zstd, created_at FROM transcript_events "
            "WHERE session_id = ? AND seq > ? AND seq <= ? ORDER BY seq",
            (session_id, -(2**63) if start is None else start, top),
        )
        while rows := cur.fetchmany(FETCH_ROWS):
            for seq, ej, ez, created in rows:
                self.bytes += len(ej) if ej is not None else len(ez or b"")
                try:
                    obj = _decode_row(ej, ez)
                    ev = usage_event(obj, sess, self.agent, rank=RANK_SQLITE, label=key, channel=channel,
                                     fallback_ts=_ms(created) or 0)
                except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError, KeyError,
                        zstandard.ZstdError) as e:
                    self.sink.bad(f"session {session_id} seq {seq}", e)
                    continue
                if ev is not None:
                    self.sink.add(ev, obj, self.agent, session_id)
            if len(self.sink.events) >= BATCH_EVENTS:
                self.marks[session_id] = rows[-1][0]
                yield
        self.marks[session_id] = top


# -- the source ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Files:
    dbs: list[tuple[str, str]]  # (path, agent)
    logs: list[tuple[str, str]]  # JSONL, its archives and cold .jsonl.zst archives

    def count(self) -> int:
        return len(self.dbs) + len(self.logs)


def _is_log(name: str) -> bool:
    return name.endswith(".jsonl") or ".jsonl.deleted." in name or ".jsonl.reset." in name


class OpenClawSource:
    id = SOURCE_ID
    kind = "local"

    def __init__(self, state_dir: Path | None = None) -> None:
        self.state_dirs = [state_dir] if state_dir is not None else default_state_dirs()

    def configured(self) -> bool:
        return any((d / "agents").is_dir() for d in self.state_dirs)

    def discover(self) -> _Files:
        found = _Files([], [])
        for root in self.state_dirs:
            agents = root / "agents"
            if not agents.is_dir():
                continue
            for agent_dir in sorted(p for p in agents.iterdir() if p.is_dir()):
                agent = agent_dir.name
                db = agent_dir / "agent" / SQLITE_NAME
                if db.is_file():
                    found.dbs.append((str(db), agent))
                sessions = agent_dir / "sessions"
                if sessions.is_dir():
                    found.logs += [(str(p), agent) for p in sorted(sessions.iterdir())
                                   if p.is_file() and _is_log(p.name)]
                cold = sessions / "cold"
                if cold.is_dir():
                    found.logs += [(str(p), agent) for p in sorted(cold.iterdir())
                                   if p.is_file() and p.name.endswith(".jsonl.zst")]
        return found

    def poll(self, cursors: Mapping[str, FileCursor]) -> Iterator[PollBatch]:
        files = self.discover()
        yield PollBatch(files=files.count())
        batch = PollBatch()
        for path, agent in files.dbs:
            for part in self._poll_db(path, agent, cursors.get(path)):
                batch = _merge(batch, part)
                if len(batch.events) >= BATCH_EVENTS:
                    yield batch
                    batch = PollBatch()
        for path, agent in files.logs:
            batch = _merge(batch, self._poll_file(path, agent, cursors.get(path)))
        yield batch

    def _poll_file(self, path: str, agent: str, cur: FileCursor | None) -> PollBatch:
        """A JSONL transcript or archive (appended bytes only) or a cold ``.jsonl.zst`` (whole)."""
        out = PollBatch()
        sink = _Sink(path)
        state: Mapping[str, Any] = {}
        try:
            if path.endswith(".jsonl.zst"):
                got = read_whole(path, cur, PARSER_VERSION)
                if got is None:
                    return out
                raw, cursor = got
                data = _unzstd_archive(raw, sink)  # a broken archive is not retried until it changes
            else:
                chunk = read_new_lines(path, cur, PARSER_VERSION)
                if chunk is None:
                    return out
                raw = data = chunk.data
                cursor = chunk.cursor
                state = {} if chunk.reset or cur is None else cur.state
        except Unreadable as e:
            out.problems.append(f"unreadable: {e}")
            return out
        sess = Session(state.get("session") or _session_from_name(path), state.get("project"),
                       state.get("provider"), state.get("model"))
        parse_lines(data, sess, agent, sink)
        cursor.state.update(sess.as_state())
        sink.into(out)
        out.cursors.append(cursor)
        out.bytes_read += len(raw)
        return out

    def _poll_db(self, path: str, agent: str, cur: FileCursor | None) -> Iterator[PollBatch]:
        try:
            st, wal = _db_stat(path)
        except OSError as e:
            yield PollBatch(problems=[f"unreadable: {path}: {e.strerror}"])
            return
        same_file = cur is not None and cur.parser_version == PARSER_VERSION and (cur.dev, cur.inode) == (
            st.st_dev, st.st_ino)
        if same_file and cur is not None and (cur.size, cur.mtime_ns) == (st.st_size, st.st_mtime_ns) and (
                cur.state.get("wal") == wal):
            return  # neither the database nor its WAL moved: not even opened
        marks: dict[str, int] = dict(cur.state.get("seq") or {}) if same_file and cur is not None else {}
        try:
            conn = open_readonly(path)
        except (sqlite3.Error, OSError) as e:
            yield PollBatch(problems=[f"unreadable: {path}: {e}"])
            return
        try:
            reader = _DbReader(path, agent, conn, marks)
            try:
                windows = reader.windows()
                changed = reader.changed_sessions()
            except sqlite3.Error as e:
                yield PollBatch(problems=[f"unreadable: {path}: {e}"])
                return
            pending = PollBatch()
            failed = False
            for session_id, top in changed.items():
                try:
                    for _full in reader.read(session_id, top, windows.get(session_id)):
                        # Progress so far, with a cursor that forces another look at the file next time.
                        pending.cursors = [_db_cursor(path, st, None, marks, partial=True)]
                        reader.sink.into(pending)
                        reader.sink = _Sink(path)
                        yield pending
                        pending = PollBatch()
                except sqlite3.Error as e:
                    failed = True
                    pending.problems.append(f"{path}: session {session_id}: {e}")
            reader.sink.into(pending)
            # A session that failed keeps its old mark; a partial cursor makes the next pass retry it.
            pending.cursors = [_db_cursor(path, st, wal, marks, partial=failed)]
            pending.bytes_read += reader.bytes  # the events' stored size
            yield pending
        finally:
            conn.close()


def _db_cursor(path: str, st: os.stat_result, wal: list[int] | None, marks: dict[str, int],
               partial: bool = False) -> FileCursor:
    return FileCursor(
        path=path, dev=st.st_dev, inode=st.st_ino, size=-1 if partial else st.st_size,
        mtime_ns=st.st_mtime_ns, offset=0, parser_version=PARSER_VERSION,
        state={"wal": wal, "seq": dict(marks)},
    )


def _merge(into: PollBatch, part: PollBatch) -> PollBatch:
    into.events.extend(part.events)
    into.snapshots.extend(part.snapshots)
    into.cursors.extend(part.cursors)
    into.bytes_read += part.bytes_read
    into.malformed_lines += part.malformed_lines
    into.problems.extend(part.problems)
    into.supersedes.extend(part.supersedes)
    return into
