"""The source contract: what every source (local log reader or provider API poller) hands to the store.

A source never prices, aggregates or writes. It turns what it reads into plain records:

* ``UsageEvent``: one billable model call, with a ``dedupe_key`` that identifies the usage itself
  (SPEC §12), so a replayed or re-read line can never be counted twice;
* ``Snapshot``: a point-in-time reading (a Codex rate-limit window, a provider balance, …);
* ``FileCursor``: how far a file has been read, persisted in the same transaction as the events read
  from it, so a crash between the two can neither lose nor double an event.

``poll()`` yields ``PollBatch`` objects; the ingest pipeline commits each batch atomically.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from operator import attrgetter
from typing import Any, Literal, Protocol, runtime_checkable

SourceKind = Literal["local", "api"]


@dataclass(slots=True)
class UsageEvent:
    """One model call. Token classes are disjoint (``total = input + output + cache_read + cache_write``);
    ``reasoning`` is the part of ``output`` spent on reasoning and ``cache_write_1h`` the part of
    ``cache_write`` written with 1-hour retention."""

    source: str
    dedupe_key: str
    ts_ms: int  # UTC epoch milliseconds
    provider: str
    model: str
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    cache_write_1h: int = 0
    reasoning: int = 0
    agent: str | None = None
    project: str | None = None
    session: str | None = None
    channel: str | None = None
    # Which of two records with the same dedupe key wins: the larger rank (SPEC §5 rule 1).
    rank: int = 0
    # Cost the log itself carried (USD); used when non-zero (SPEC §5 rule 4).
    reported_cost_usd: Decimal | None = None
    # Pricing variant, e.g. {"speed": "fast"} or {"service_tier": "priority"}.
    price_context: Mapping[str, str] | None = None
    model_fallback: bool = False  # the model was guessed (e.g. Codex logs without turn_context)

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_read + self.cache_write

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Events cross process boundaries by the hundred thousand during a cold ingest; pickling the
        # positional fields is ~35 % cheaper than the default for a slots dataclass.
        return (UsageEvent, _event_fields(self))


_event_fields = attrgetter(*(f.name for f in fields(UsageEvent)))


@dataclass(slots=True)
class Snapshot:
    """A reading that is kept as history, latest first when shown (balances, quota windows)."""

    source: str
    kind: str  # e.g. "codex.rate_limits", "balance"
    key: str  # what it is a reading of (account, provider, currency …)
    ts_ms: int
    data: dict[str, Any]


@dataclass(slots=True)
class FileCursor:
    """How far one file has been consumed. ``state`` carries parser state that must survive between
    passes (for Codex: the session's last cumulative total and current model)."""

    path: str
    dev: int = 0
    inode: int = 0
    size: int = 0
    mtime_ns: int = 0
    offset: int = 0
    parser_version: int = 0
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class PollBatch:
    """One atomic unit of work: these events and snapshots are stored together with these cursors."""

    events: list[UsageEvent] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    cursors: list[FileCursor] = field(default_factory=list)
    files: int = 0
    bytes_read: int = 0
    malformed_lines: int = 0
    # Bytes the whole poll expects to read (set on the first batch, for progress bars); 0 = unknown.
    planned_bytes: int = 0
    # Human-readable problems that did not stop the poll (unreadable file, malformed line at …).
    problems: list[str] = field(default_factory=list)
    # ``(source, dedupe key)`` of events of another source that this batch's events replace (an
    # OpenClaw run recorded live, now read call by call from its transcript: see sources/runs.py).
    supersedes: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class Plan:
    """What a pass will read, split into independent units (files) that may run in parallel."""

    files: int
    units: list[Any]
    sizes: list[int]  # bytes each unit expects to read
    problems: list[str] = field(default_factory=list)


@runtime_checkable
class Source(Protocol):
    id: str
    kind: SourceKind

    def configured(self) -> bool:
        """True when the source has something to read (a log directory exists, a key was found)."""
        ...

    def poll(self, cursors: Mapping[str, FileCursor]) -> Iterator[PollBatch]:
        """Read what is new since ``cursors`` and yield batches to be stored atomically."""
        ...


@runtime_checkable
class PartitionedSource(Protocol):
    """A source whose pass splits into units the ingest pipeline may read, price and store in parallel
    worker processes (each unit's batches carry their own cursors, so any order is safe)."""

    def plan(self, cursors: Mapping[str, FileCursor]) -> Plan: ...

    def poll_unit(self, unit: Any) -> Iterator[PollBatch]: ...


class SourceError(Exception):
    """A source failed as a whole (the message names the source and the problem, never a secret)."""
