"""``token-dashboard.record`` input: ``UsageRecord`` dicts → ``UsageEvent`` of the ``record`` source.

The idempotency key is the dedupe key (SPEC §12), so a record sent twice, or by two plugins, is stored
once. Free-text fields are redacted (keys, emails, home paths, private IPs) and truncated before they
reach the store (SPEC §13); prompt or response text is not a field at all.
"""

from __future__ import annotations

import math
import re
import time
from datetime import datetime
from decimal import Decimal
from typing import Any

from tokendash.errors import InvalidParams
from tokendash.sources.base import UsageEvent
from tokendash.sources.runs import RECORD_SOURCE, record_dedupe_key

MAX_EVENTS = 1000
MAX_KEY = 200
MAX_TEXT = 128
FIELDS = {
    "idempotencyKey", "timestamp", "provider", "model", "agent", "project", "session", "channel",
    "input", "output", "cacheRead", "cacheWrite", "reasoning", "costUsd",
}
TOKENS = (("input", "input"), ("output", "output"), ("cacheRead", "cache_read"), ("cacheWrite", "cache_write"),
          ("reasoning", "reasoning"))

_REDACT = [
    (re.compile(r"\b(sk|pk|rk|xai|gsk)[-_][A-Za-z0-9_\-]{8,}"), "[key]"),
    (re.compile(r"\b[A-Za-z0-9_\-]{32,}\b"), "[key]"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "[email]"),
    (re.compile(r"(/home/|/Users/|/root\b)[^/\s]*"), r"~"),
    (re.compile(r"\b(10(\.\d{1,3}){3}|192\.168(\.\d{1,3}){2}|172\.(1[6-9]|2\d|3[01])(\.\d{1,3}){2})\b"), "[ip]"),
]


def redact(text: str) -> str:
    for rx, repl in _REDACT:
        text = rx.sub(repl, text)
    return text[:MAX_TEXT]


def _text(ev: dict[str, Any], name: str, where: str, required: bool = False) -> str | None:
    v = ev.get(name)
    if v is None:
        if required:
            raise InvalidParams(f"{where}.{name}", "is required")
        return None
    if not isinstance(v, str):
        raise InvalidParams(f"{where}.{name}", "must be a string")
    v = v.strip()
    if required and not v:
        raise InvalidParams(f"{where}.{name}", "must not be empty")
    return redact(v) if v else None


def _count(ev: dict[str, Any], name: str, where: str) -> int:
    v = ev.get(name, 0)
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 2**53:
        raise InvalidParams(f"{where}.{name}", "must be a non-negative integer")
    return v


def _ts(ev: dict[str, Any], where: str) -> int:
    v = ev.get("timestamp")
    if v is None:
        return int(time.time() * 1000)
    if not isinstance(v, str):
        raise InvalidParams(f"{where}.timestamp", "must be an ISO-8601 string")
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError as e:
        raise InvalidParams(f"{where}.timestamp", f"{v[:40]!r} is not an ISO-8601 time") from e
    if dt.tzinfo is None:
        raise InvalidParams(f"{where}.timestamp", "needs a time zone (Z or +hh:mm)")
    return int(dt.timestamp() * 1000)


def _event(ev: Any, where: str) -> UsageEvent:
    if not isinstance(ev, dict):
        raise InvalidParams(where, "must be an object")
    for k in ev:
        if k not in FIELDS:
            raise InvalidParams(f"{where}.{k}", "unknown field")
    key = ev.get("idempotencyKey")
    if not isinstance(key, str) or not key.strip():
        raise InvalidParams(f"{where}.idempotencyKey", "is required (a non-empty string)")
    if len(key) > MAX_KEY:
        raise InvalidParams(f"{where}.idempotencyKey", f"must be at most {MAX_KEY} characters")
    cost = ev.get("costUsd")
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int | float) or not math.isfinite(cost)
                             or cost < 0):
        raise InvalidParams(f"{where}.costUsd", "must be a non-negative number")
    counts = {attr: _count(ev, name, where) for name, attr in TOKENS}
    if counts["reasoning"] > counts["output"]:
        raise InvalidParams(f"{where}.reasoning", "is a part of output and cannot exceed it")
    return UsageEvent(
        source=RECORD_SOURCE,
        # The key may carry anything the caller chose; the store keeps only its hash.
        dedupe_key=record_dedupe_key(key),
        ts_ms=_ts(ev, where),
        provider=(_text(ev, "provider", where, required=True) or "").lower(),
        model=_text(ev, "model", where, required=True) or "",
        agent=_text(ev, "agent", where),
        project=_text(ev, "project", where),
        session=_text(ev, "session", where),
        channel=_text(ev, "channel", where),
        reported_cost_usd=Decimal(str(cost)) if cost is not None else None,
        **counts,
    )


def to_events(events: Any) -> list[UsageEvent]:
    if events is None:
        raise InvalidParams("events", "is required")
    if not isinstance(events, list):
        raise InvalidParams("events", "must be a list of UsageRecord objects")
    if len(events) > MAX_EVENTS:
        raise InvalidParams("events", f"at most {MAX_EVENTS} per call")
    return [_event(ev, f"events[{i}]") for i, ev in enumerate(events)]
