"""Codex CLI rollouts: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl`` and
``$CODEX_HOME/archived_sessions/`` (default ``~/.codex``).

Each line is ``{"timestamp", "type", "payload"}`` with ``type`` one of ``session_meta``,
``turn_context``, ``response_item``, ``compacted``, ``event_msg``. Usage is in ``event_msg`` payloads of
``type: "token_count"``: ``info.total_token_usage`` is the session's **cumulative** total,
``info.last_token_usage`` the last call. The rules (SPEC §5 rule 2, local-sources.md §3):

* usage is the delta of the cumulative total per session; Codex re-emits ``token_count`` with an
  unchanged total, which adds nothing; ``last_token_usage`` is never summed;
* ``info: null`` (rate-limit-only events) adds nothing;
* ``input_tokens`` includes ``cached_input_tokens``; reasoning is billed as output and is already inside
  ``output_tokens`` when ``total_tokens == input_tokens + output_tokens``;
* the model comes from ``info.model`` or the latest ``turn_context.model``; without either (early
  September 2025 logs) it is ``gpt-5``, flagged ``model_fallback``.

Forks and subagents replay their parent's history at spawn: a fork file starts with its own
``session_meta``, then the parent's ``session_meta`` and the parent's lines, ``token_count`` included,
and its own counter goes on from the parent's total. An event is therefore keyed on the session of the
latest ``session_meta`` seen (its *owner*) and its position in that session's cumulative count, so a
replayed event gets the same dedupe key as the original in the parent's file and counts once. Events
read in their own session's file rank higher, so the original (true timestamp, session) wins.

``rate_limits`` (5-hour and weekly windows), ``credits`` and ``plan_type`` are stored as snapshots
whenever they change; replayed segments are skipped, their readings being stale.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from tokendash.sources.base import FileCursor, PollBatch, Snapshot, UsageEvent
from tokendash.sources.claude_code import iso_to_ms
from tokendash.sources.files import Unreadable, fingerprint, read_new_lines

SOURCE_ID = "codex"
PARSER_VERSION = 1
DEFAULT_PROVIDER = "openai"
FALLBACK_MODEL = "gpt-5"
BATCH_EVENTS = 50_000
MAX_PROBLEMS_PER_FILE = 3

# Only these lines matter; response items (most of the bytes) are never parsed.
_MARKERS = (b'"token_count"', b'"turn_context"', b'"session_meta"')
_UUID_RE = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$", re.I)
_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens")


def default_codex_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    raw = (env.get("CODEX_HOME") or "").strip()
    return Path(raw).expanduser() if raw else Path(env.get("HOME") or Path.home()) / ".codex"


def session_id_from_path(path: str) -> str:
    m = _UUID_RE.search(os.path.basename(path))
    return m.group(1).lower() if m else os.path.basename(path).removesuffix(".jsonl")


def _usage_tuple(u: Any) -> list[int] | None:
    if not isinstance(u, dict):
        return None
    return [int(u.get(k) or 0) for k in _FIELDS]


def _window(w: Any, ts_ms: int) -> dict[str, Any] | None:
    if not isinstance(w, dict):
        return None
    resets_at = w.get("resets_at")
    if resets_at is None and w.get("resets_in_seconds") is not None:
        # Older builds wrote a relative reset; make it absolute so readings compare.
        resets_at = ts_ms // 1000 + int(w["resets_in_seconds"])
    return {
        "usedPercent": float(w.get("used_percent") or 0),
        "windowMinutes": w.get("window_minutes"),
        "resetsAt": int(resets_at) if resets_at is not None else None,
    }


class RolloutParser:
    """Turns the lines of one rollout file into events and snapshots. Its state survives between
    passes in ``FileCursor.state`` (JSON-serialisable values only)."""

    def __init__(self, path: str, state: Mapping[str, Any] | None = None) -> None:
        self.path = path
        s = dict(state or {})
        self.file_id: str = s.get("file_id") or session_id_from_path(path)
        self.meta_seen: bool = bool(s.get("meta_seen"))
        self.owner: str = s.get("owner") or self.file_id
        self.epoch: int = int(s.get("epoch") or 0)
        self.prev: list[int] | None = s.get("prev")
        self.model: str | None = s.get("model")
        self.provider: str = s.get("provider") or DEFAULT_PROVIDER
        self.project: str | None = s.get("project")
        self.last_snap: dict[str, str] = dict(s.get("snap") or {})
        self.events: list[UsageEvent] = []
        self.snapshots: list[Snapshot] = []
        self.malformed = 0
        self.problems: list[str] = []

    def state(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id, "meta_seen": self.meta_seen, "owner": self.owner, "epoch": self.epoch,
            "prev": self.prev, "model": self.model, "provider": self.provider, "project": self.project,
            "snap": self.last_snap,
        }

    def feed(self, data: bytes) -> None:
        loads = orjson.loads
        for lineno, line in enumerate(data.split(b"\n"), 1):
            if not any(m in line for m in _MARKERS):
                continue
            try:
                obj = loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("not an object")
                self.line(obj)
            except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError, OverflowError) as e:
                self.malformed += 1
                if len(self.problems) < MAX_PROBLEMS_PER_FILE:
                    self.problems.append(
                        f"{self.path}: line {lineno} of the new data is malformed ({type(e).__name__})"
                    )

    def line(self, obj: dict[str, Any]) -> None:
        kind = obj.get("type")
        payload = obj.get("payload")
        if not isinstance(payload, dict):
            return
        if kind == "session_meta":
            self._session_meta(payload)
        elif kind == "turn_context":
            if isinstance(payload.get("model"), str) and payload["model"]:
                self.model = payload["model"]
            self._cwd(payload.get("cwd"))
        elif kind == "event_msg" and payload.get("type") == "token_count":
            ts = obj.get("timestamp")
            ts_ms = iso_to_ms(ts) if isinstance(ts, str) else 0
            info = payload.get("info")
            if isinstance(info, dict):  # info: null carries rate limits only
                self._token_count(info, ts_ms)
            if self.owner == self.file_id:
                self._rate_limits(payload.get("rate_limits"), ts_ms)

    def _cwd(self, cwd: Any) -> None:
        if isinstance(cwd, str) and cwd.strip("/"):
            self.project = os.path.basename(cwd.rstrip("/"))

    def _session_meta(self, p: dict[str, Any]) -> None:
        sid = p.get("id") if isinstance(p.get("id"), str) and p.get("id") else None
        if not self.meta_seen:
            self.meta_seen = True
            if sid:
                self.file_id = sid
                self.owner = sid
        elif sid and sid != self.owner:
            # An embedded parent header: what follows is the parent's history, counted from zero.
            self.owner = sid
            self.epoch = 0
            self.prev = None
        if isinstance(p.get("model_provider"), str) and p["model_provider"]:
            self.provider = p["model_provider"]
        self._cwd(p.get("cwd"))

    def _token_count(self, info: dict[str, Any], ts_ms: int) -> None:
        cur = _usage_tuple(info.get("total_token_usage"))
        if cur is None:
            last = _usage_tuple(info.get("last_token_usage"))
            if last is None:
                return
            # No cumulative total (not seen in real logs): rebuild it so positions stay comparable.
            cur = [a + b for a, b in zip(self.prev or [0] * 5, last, strict=True)]
        prev = self.prev
        if prev is not None and cur == prev:
            return  # re-emitted event: the total did not move
        if prev is not None and (cur[4] < prev[4] or cur[0] < prev[0]):
            self.epoch += 1  # the counter started again
            prev = None
        self.prev = cur
        base = prev or [0] * 5
        d_in, d_cached, d_out, d_reason, _ = (max(0, c - b) for c, b in zip(cur, base, strict=True))
        reasoning_in_output = cur[4] == 0 or cur[4] == cur[0] + cur[2]
        output = d_out if reasoning_in_output else d_out + d_reason
        cached = min(d_cached, d_in)
        if not (d_in or output or d_reason):
            return
        model = info.get("model") if isinstance(info.get("model"), str) and info.get("model") else self.model
        fallback = model is None
        self.events.append(
            UsageEvent(
                source=SOURCE_ID,
                dedupe_key=f"{self.owner}:{self.epoch}:{':'.join(map(str, cur))}",
                ts_ms=ts_ms,
                provider=self.provider,
                model=model or FALLBACK_MODEL,
                input=d_in - cached,
                output=output,
                cache_read=cached,
                reasoning=min(d_reason, output),
                project=self.project,
                session=self.file_id,
                rank=1 if self.owner == self.file_id else 0,
                model_fallback=fallback,
            )
        )

    def _rate_limits(self, rl: Any, ts_ms: int) -> None:
        if not isinstance(rl, dict):
            return
        limits = {name: _window(rl.get(name), ts_ms) for name in ("primary", "secondary")}
        limits = {k: v for k, v in limits.items() if v is not None}
        if rl.get("plan_type") is not None:
            limits["planType"] = rl.get("plan_type")
        self._snapshot("codex.rate_limits", limits, ts_ms)
        cr = rl.get("credits")
        if isinstance(cr, dict):
            credits = {
                "hasCredits": bool(cr.get("has_credits")),
                "unlimited": bool(cr.get("unlimited")),
                "balance": cr.get("balance"),
            }
            self._snapshot("codex.credits", credits, ts_ms)

    def _snapshot(self, kind: str, data: dict[str, Any], ts_ms: int) -> None:
        if not data:
            return
        # Every token_count repeats the reading; keep only changes.
        digest = fingerprint(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
        if self.last_snap.get(kind) == digest:
            return
        self.last_snap[kind] = digest
        self.snapshots.append(Snapshot(source=SOURCE_ID, kind=kind, key="codex", ts_ms=ts_ms, data=data))


class CodexSource:
    id = SOURCE_ID
    kind = "local"

    def __init__(self, home: Path | None = None) -> None:
        self.home = home if home is not None else default_codex_home()

    def configured(self) -> bool:
        return (self.home / "sessions").is_dir() or (self.home / "archived_sessions").is_dir()

    def discover(self) -> list[str]:
        """Rollout files; an archived copy of a file still under ``sessions/`` is left out."""
        found: dict[str, list[str]] = {"sessions": [], "archived_sessions": []}
        for sub, paths in found.items():
            root = self.home / sub
            if not root.is_dir():
                continue
            for dirpath, _dirs, files in os.walk(root):
                paths.extend(
                    os.path.join(dirpath, n) for n in files if n.startswith("rollout-") and n.endswith(".jsonl")
                )
        live = {os.path.basename(p) for p in found["sessions"]}
        archived = [p for p in found["archived_sessions"] if os.path.basename(p) not in live]
        return sorted(found["sessions"]) + sorted(archived)

    def poll(self, cursors: Mapping[str, FileCursor]) -> Iterator[PollBatch]:
        paths = self.discover()
        yield PollBatch(files=len(paths), planned_bytes=_planned_bytes(paths, cursors))
        batch = PollBatch()
        for path in paths:
            cur = cursors.get(path)
            try:
                chunk = read_new_lines(path, cur, PARSER_VERSION)
            except Unreadable as e:
                batch.problems.append(f"unreadable: {e}")
                continue
            if chunk is None:
                continue
            parser = RolloutParser(path, None if chunk.reset or cur is None else cur.state)
            parser.feed(chunk.data)
            chunk.cursor.state.update(parser.state())
            batch.events.extend(parser.events)
            batch.snapshots.extend(parser.snapshots)
            batch.cursors.append(chunk.cursor)
            batch.bytes_read += len(chunk.data)
            batch.malformed_lines += parser.malformed
            batch.problems.extend(parser.problems)
            if len(batch.events) >= BATCH_EVENTS:
                yield batch
                batch = PollBatch()
        yield batch


def _planned_bytes(paths: list[str], cursors: Mapping[str, FileCursor]) -> int:
    total = 0
    for path in paths:
        try:
            size = os.stat(path).st_size
        except OSError:
            continue
        cur = cursors.get(path)
        pending = size - (cur.offset if cur else 0)
        total += pending if pending > 0 else 0
    return total
