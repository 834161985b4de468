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

import orjson

from tokendash.sources.base import FileCursor, PollBatch, UsageEvent
from tokendash.sources.files import Chunk, Unreadable, read_new_lines

SOURCE_ID = "claude-code"
PARSER_VERSION = 1
PROVIDER = "anthropic"

_SIDECHAIN_SHIFT = 60
# Above this many bytes to read, parse in worker processes (the machine's cores); below, in-process.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
BATCH_EVENTS = 50_000


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
    return UsageEvent(
        source=SOURCE_ID,
        dedupe_key=key,
        ts_ms=iso_to_ms(ts) if isinstance(ts, str) else 0,
        provider=PROVIDER,
        model=model,
        input=inp,
        output=out,
        cache_read=cr,
        cache_write=cw,
        cache_write_1h=cw1h,
        agent=obj.get("attributionAgent") if sidechain else None,
        project=os.path.basename(cwd.rstrip("/")) if isinstance(cwd, str) and cwd else project_dir,
        session=obj.get("sessionId"),
        rank=rank,
        reported_cost_usd=Decimal(str(cost)) if isinstance(cost, int | float) and cost else None,
        price_context={"speed": "fast"} if speed == "fast" else None,
    )


def parse_chunk(data: bytes, project_dir: str, where: str) -> tuple[dict[str, UsageEvent], int, list[str]]:
    """Complete lines → events de-duplicated within the chunk (largest rank wins), malformed count,
    problem texts (the first few, with file and line position)."""
    events: dict[str, UsageEvent] = {}
    malformed = 0
    problems: list[str] = []
    loads = orjson.loads
    for lineno, line in enumerate(data.split(b"\n"), 1):
        # Cheap prefilter; tolerant of a space after the colon, unlike ccusage's byte marker.
        if b'"usage"' not in line:
            continue
        try:
            obj = loads(line)
            ev = parse_line(obj, project_dir) if isinstance(obj, dict) else None
        except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError) as e:
            malformed += 1
            if len(problems) < 3:
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


def _work(args: tuple[str, FileCursor | None]) -> tuple[str, list[UsageEvent], FileCursor | None, int, int, list[str]]:
    path, cursor = args
    try:
        chunk: Chunk | None = read_new_lines(path, cursor, PARSER_VERSION)
    except Unreadable as e:
        return path, [], None, 0, 0, [f"unreadable: {e}"]
    if chunk is None:
        return path, [], None, 0, 0, []
    events, malformed, problems = parse_chunk(chunk.data, _project_dir(path), path)
    return path, list(events.values()), chunk.cursor, len(chunk.data), malformed, problems


class ClaudeCodeSource:
    id = SOURCE_ID
    kind = "local"

    def __init__(self, config_dirs: list[Path] | None = None, workers: int | None = None) -> None:
        self.config_dirs = config_dirs if config_dirs is not None else default_config_dirs()
        self.workers = workers if workers is not None else (os.cpu_count() or 1)

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

    def poll(self, cursors: Mapping[str, FileCursor]) -> Iterator[PollBatch]:
        todo: list[tuple[str, FileCursor | None, int]] = []
        files = 0
        for path in self.discover():
            files += 1
            cur = cursors.get(path)
            try:
                st = os.stat(path)
            except OSError as e:
                yield PollBatch(problems=[f"unreadable: {path}: {e.strerror}"])
                continue
            if cur is not None and cur.parser_version == PARSER_VERSION and (cur.dev, cur.inode) == (
                st.st_dev,
                st.st_ino,
            ) and (st.st_size, st.st_mtime_ns) == (cur.size, cur.mtime_ns):
                continue  # unchanged: not even opened
            pending = st.st_size - (cur.offset if cur else 0)
            todo.append((path, cur, pending if pending > 0 else st.st_size))
        # Largest first, so the worker pool is not left waiting on one huge file at the end.
        todo.sort(key=lambda t: -t[2])
        total_bytes = sum(t[2] for t in todo)
        jobs = [(p, c) for p, c, _ in todo]
        yield PollBatch(files=files, planned_bytes=total_bytes)  # lets a progress bar size itself
        batch = PollBatch()
        if self.workers > 1 and total_bytes >= PARALLEL_MIN_BYTES and len(jobs) > 1:
            import multiprocessing as mp

            ctx = mp.get_context("fork")
            with ctx.Pool(self.workers) as pool:
                results: Iterator = pool.imap_unordered(_work, jobs, chunksize=1)
                yield from self._batches(results, batch)
        else:
            yield from self._batches(map(_work, jobs), batch)

    def _batches(self, results: Iterator, batch: PollBatch) -> Iterator[PollBatch]:
        for _path, events, cursor, nbytes, malformed, problems in results:
            batch.events.extend(events)
            if cursor is not None:
                batch.cursors.append(cursor)
            batch.bytes_read += nbytes
            batch.malformed_lines += malformed
            batch.problems.extend(problems)
            if len(batch.events) >= BATCH_EVENTS:
                yield batch
                batch = PollBatch()
        yield batch
