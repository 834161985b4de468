"""Claude Code transcripts: ``<config dir>/projects/<project>/<session>.jsonl`` and
``<project>/<session>/subagents/agent-<id>.jsonl``.

One JSON object per line, compact JSON. Only ``type: "assistant"`` lines with ``message.usage`` carry
usage. Token classes are disjoint: ``input_tokens`` (uncached), ``cache_read_input_tokens``,
``cache_creation_input_tokens`` (= ``cache_creation.ephemeral_5m_input_tokens`` +
``ephemeral_1h_input_tokens`` when the breakdown is present), ``output_tokens``.

De-duplication follows ccusage 20 (SPEC §5 rule 1): one API response is written as several lines that
share ``message.id`` + ``requestId`` with a growing ``output_tokens``; resumed sessions copy earlier lines
into new files; ``/btw`` sidechains replay parent messages. The key is ``(message.id, requestId or
none)``, global across files; of duplicates a non-sidechain entry wins, then the largest token total,
then the one with ``speed`` set. That order is packed into ``UsageEvent.rank``. A line without
``message.id`` is never de-duplicated (keyed on its own ``uuid``). ``model: "<synthetic>"`` lines are
local API-error placeholders, not usage.

Config dirs: ``CLAUDE_CONFIG_DIR`` (comma-separated; replaces the defaults ``~/.config/claude`` and
``~/.claude``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import msgspec
import orjson

from tokendash.sources.base import FileCursor, Plan, PollBatch, UsageEvent
from tokendash.sources.files import Chunk, Unreadable, needs_read, read_new_lines

SOURCE_ID = "claude-code"
PARSER_VERSION = 1
PROVIDER = "anthropic"

_SIDECHAIN_SHIFT = 60
# Above this many bytes to read, parse in worker processes (the machine's cores); below, in-process.
READ_BLOCK = 16 * 1024 * 1024  # bytes read from one file at a time
BATCH_EVENTS = 10_000


def default_config_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    env = os.environ if env is None else env
    raw = env.get("CLAUDE_CONFIG_DIR", "").strip()
    if raw:
        dirs = [Path(p.strip()).expanduser() for p in raw.split(",") if p.strip()]
    else:
        home = Path(env.get("HOME") or Path.home())
        dirs = [home / ".config" / "claude", home / ".claude"]
    seen: list[Path] = []
    for d in dirs:
        if d not in seen:
            seen.append(d)
    return seen


def iso_to_ms(ts: str) -> int:
    return int(datetime.fromisoformat(ts).timestamp() * 1000)


def parse_line(obj: dict, project_dir: str) -> UsageEvent | None:
    """One parsed JSON line → an event, or None when the line carries no usage."""
    if obj.get("type") != "assistant":
        return None
    msg = obj.get("message")
    if not isinstance(msg, dict):
        return None
    usage = msg.get("usage")
    if not isinstance(usage, dict):
        return None
    model = msg.get("model") or ""
    if model == "<synthetic>":
        return None
    inp = int(usage.get("input_tokens") or 0)
    out = int(usage.get("output_tokens") or 0)
    cr = int(usage.get("cache_read_input_tokens") or 0)
    cw = int(usage.get("cache_creation_input_tokens") or 0)
    cc = usage.get("cache_creation")
    cw1h = int(cc.get("ephemeral_1h_input_tokens") or 0) if isinstance(cc, dict) else 0
    cw1h = min(cw1h, cw)
    speed = usage.get("speed") or obj.get("speed")
    msg_id = msg.get("id")
    req_id = obj.get("requestId")
    if msg_id:
        key = f"{msg_id}:{req_id or ''}"
    else:
        key = f"uuid:{obj.get('uuid') or obj.get('timestamp')}:{obj.get('sessionId')}"
    sidechain = bool(obj.get("isSidechain"))
    total = inp + out + cr + cw
    rank = ((0 if sidechain else 1) << _SIDECHAIN_SHIFT) | (total << 1) | (1 if speed else 0)
    ts = obj.get("timestamp")
    cwd = obj.get("cwd")
    cost = obj.get("costUSD")
    # Positional construction: keyword arguments cost ~1 µs an event on a 10^5-event ingest.
    return UsageEvent(
        SOURCE_ID, key, iso_to_ms(ts) if isinstance(ts, str) else 0, PROVIDER, model,
        inp, out, cr, cw, cw1h, 0,
        obj.get("attributionAgent") if sidechain else None,
        _project(cwd) if isinstance(cwd, str) and cwd else project_dir,
        obj.get("sessionId"), None, rank,
        Decimal(str(cost)) if isinstance(cost, int | float) and cost else None,
        _FAST if speed == "fast" else None,
    )


_FAST = {"speed": "fast"}
_projects: dict[str, str] = {}
_strings: dict[str | None, str | None] = {}


def _shared(value: str | None) -> str | None:
    """One object per distinct model / session name: the rows pickled from a parse worker to the
    writer then carry each name once (a third fewer bytes to copy and decode)."""
    return _strings.setdefault(value, value)


def _project(cwd: str) -> str:
    p = _projects.get(cwd)
    if p is None:
        p = _projects[cwd] = os.path.basename(cwd.rstrip("/"))
    return p


class _CacheCreation(msgspec.Struct):
    ephemeral_1h_input_tokens: int | None = None


class _Usage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_creation: _CacheCreation | None = None
    speed: str | None = None


class _Message(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    usage: _Usage | None = None


class _Line(msgspec.Struct):
    """The few fields of a transcript line that usage needs. Decoding into it skips everything else
    (the prompt and tool payloads that are most of the bytes) without building Python objects."""

    type: str | None = None
    message: _Message | None = None
    requestId: str | None = None  # noqa: N815 (the log's own names)
    uuid: str | None = None
    timestamp: str | None = None
    sessionId: str | None = None  # noqa: N815
    isSidechain: bool | None = None  # noqa: N815
    cwd: str | None = None
    costUSD: int | float | None = None  # noqa: N815
    speed: str | None = None
    attributionAgent: str | None = None  # noqa: N815


_decode_line = msgspec.json.Decoder(_Line).decode


def _fast_event(ln: _Line, project_dir: str) -> UsageEvent | None:
    """``parse_line`` for a line that decoded into ``_Line``; same rules, same result."""
    msg = ln.message
    if ln.type != "assistant" or msg is None:
        return None
    usage = msg.usage
    if usage is None:
        return None
    model = msg.model or ""
    if model == "<synthetic>":
        return None
    model = _shared(model)
    inp = usage.input_tokens or 0
    out = usage.output_tokens or 0
    cr = usage.cache_read_input_tokens or 0
    cw = usage.cache_creation_input_tokens or 0
    cc = usage.cache_creation
    cw1h = min((cc.ephemeral_1h_input_tokens or 0) if cc is not None else 0, cw)
    speed = usage.speed or ln.speed
    key = f"{msg.id}:{ln.requestId or ''}" if msg.id else f"uuid:{ln.uuid or ln.timestamp}:{ln.sessionId}"
    sidechain = bool(ln.isSidechain)
    total = inp + out + cr + cw
    rank = ((0 if sidechain else 1) << _SIDECHAIN_SHIFT) | (total << 1) | (1 if speed else 0)
    ts, cwd, cost = ln.timestamp, ln.cwd, ln.costUSD
    return UsageEvent(
        SOURCE_ID, key, iso_to_ms(ts) if ts is not None else 0, PROVIDER, model,
        inp, out, cr, cw, cw1h, 0,
        ln.attributionAgent if sidechain else None,
        _project(cwd) if cwd else project_dir,
        _shared(ln.sessionId), None, rank,
        Decimal(str(cost)) if cost else None,
        _FAST if speed == "fast" else None,
    )


def parse_chunk(data: bytes, project_dir: str, where: str) -> tuple[dict[str, UsageEvent], int, list[str]]:
    """Complete lines → events de-duplicated within the chunk (largest rank wins), malformed count,
    problem texts (the first few, with file and line position)."""
    events: dict[str, UsageEvent] = {}
    malformed = 0
    problems: list[str] = []
    loads, fast = orjson.loads, _decode_line
    decode_errors = (msgspec.ValidationError, msgspec.DecodeError)
    # Only lines holding a "usage" key matter (1 in 3 or so, but the others carry the bulk of the bytes:
    # prompts, tool results). Find each marker and cut out its line, instead of splitting every line.
    find, rfind = data.find, data.rfind
    pos = find(b'"usage"')
    while pos != -1:
        start = rfind(b"\n", 0, pos) + 1
        end = find(b"\n", pos)
        if end == -1:
            end = len(data)
        line = data[start:end]
        pos = find(b'"usage"', end)
        try:
            ev = _fast_event(fast(line), project_dir)
        except decode_errors:
            # An unusual shape (a float count, a non-object message, broken JSON): the general path
            # decides, with the same rules, and tells malformed lines apart.
            try:
                obj = loads(line)
                ev = parse_line(obj, project_dir) if isinstance(obj, dict) else None
            except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError) as e:
                malformed += 1
                if len(problems) < 3:
                    lineno = data.count(b"\n", 0, start) + 1
                    problems.append(f"{where}: line {lineno} of the new data is malformed ({type(e).__name__})")
                continue
        if ev is None:
            continue
        prev = events.get(ev.dedupe_key)
        if prev is None or ev.rank > prev.rank:
            events[ev.dedupe_key] = ev
    return events, malformed, problems


def _project_dir(path: str) -> str:
    parts = Path(path).parts
    if "projects" in parts:
        i = len(parts) - 1 - parts[::-1].index("projects")
        if i + 1 < len(parts) - 1:
            return parts[i + 1]
    return ""


def read_file(path: str, cursor: FileCursor | None, max_bytes: int = READ_BLOCK) -> Iterator[PollBatch]:
    """One file's new lines as batches of at most ``max_bytes`` read, each with the cursor to store
    with it (so a huge file is neither held in memory whole nor lost on a crash half-way)."""
    project = _project_dir(path)
    while True:
        try:
            chunk: Chunk | None = read_new_lines(path, cursor, PARSER_VERSION, max_bytes)
        except Unreadable as e:
            yield PollBatch(problems=[f"unreadable: {e}"])
            return
        if chunk is None:
            return
        events, malformed, problems = parse_chunk(chunk.data, project, path)
        yield PollBatch(
            events=list(events.values()), cursors=[chunk.cursor], bytes_read=len(chunk.data),
            malformed_lines=malformed, problems=problems,
        )
        if not chunk.more:
            return
        cursor = chunk.cursor


class ClaudeCodeSource:
    id = SOURCE_ID
    kind = "local"

    def __init__(self, config_dirs: list[Path] | None = None, batch_events: int = BATCH_EVENTS) -> None:
        self.config_dirs = config_dirs if config_dirs is not None else default_config_dirs()
        self.batch_events = batch_events

    def configured(self) -> bool:
        return any((d / "projects").is_dir() for d in self.config_dirs)

    def discover(self) -> list[str]:
        found: set[str] = set()
        for d in self.config_dirs:
            root = d / "projects"
            if not root.is_dir():
                continue
            for dirpath, _dirs, files in os.walk(root):
                for name in files:
                    if name.endswith(".jsonl"):
                        found.add(os.path.join(dirpath, name))
        return sorted(found)

    def plan(self, cursors: Mapping[str, FileCursor]) -> Plan:
        """Which files have something new, largest first (so parallel workers finish together)."""
        todo: list[tuple[str, FileCursor | None, int]] = []
        problems: list[str] = []
        files = 0
        for path in self.discover():
            files += 1
            cur = cursors.get(path)
            try:
                st = os.stat(path)
            except OSError as e:
                problems.append(f"unreadable: {path}: {e.strerror}")
                continue
            if cur is not None and not needs_read(path, st, cur, PARSER_VERSION):
                continue  # unchanged: not even opened
            pending = st.st_size - (cur.offset if cur else 0)
            todo.append((path, cur, pending if pending > 0 else st.st_size))
        todo.sort(key=lambda t: -t[2])
        return Plan(files=files, units=[(p, c) for p, c, _ in todo], sizes=[n for _, _, n in todo], problems=problems)

    def poll_unit(self, unit: tuple[str, FileCursor | None]) -> Iterator[PollBatch]:
        return read_file(*unit)

    def poll(self, cursors: Mapping[str, FileCursor]) -> Iterator[PollBatch]:
        plan = self.plan(cursors)
        # The first batch sizes a progress bar.
        yield PollBatch(files=plan.files, planned_bytes=sum(plan.sizes), problems=plan.problems)
        batch = PollBatch()
        for unit in plan.units:
            for part in self.poll_unit(unit):
                batch.events.extend(part.events)
                batch.cursors.extend(part.cursors)
                batch.bytes_read += part.bytes_read
                batch.malformed_lines += part.malformed_lines
                batch.problems.extend(part.problems)
                if len(batch.events) >= self.batch_events:
                    yield batch
                    batch = PollBatch()
        yield batch
