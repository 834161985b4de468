"""What a provider poll hands to the store: reported usage/cost buckets, balance readings, and how
each endpoint fared. Parsers only build these; they never write, price or aggregate.

Money is ``Decimal`` in the provider's own currency (never a float on the way in: Anthropic's cents
strings and DeepSeek's amount strings stay exact); USD is derived later through the configured rates.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from tokendash.providers.http import ProviderError

DAY_MS = 86_400_000
T = TypeVar("T")


@dataclass(slots=True)
class Bucket:
    """Usage and/or cost a provider reported for ``[start_ms, end_ms)``, one grouping value (``dim``)."""

    endpoint: str
    start_ms: int
    end_ms: int
    dim: str = ""
    model: str | None = None
    input: int = 0  # uncached input only (SPEC §8 token classes)
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    reasoning: int = 0
    requests: int = 0
    cost: Decimal | None = None  # None: a usage-only row
    currency: str | None = None


@dataclass(slots=True)
class Balance:
    """One reading. ``kind``: ``balance`` (money left on the account), ``key_remaining`` (what a key
    may still spend under its limit), ``spend_limit`` (a cap, not money held)."""

    kind: str
    key: str
    amount: Decimal | None  # None: the provider sent no usable number (see ``problem``)
    currency: str
    limit: Decimal | None = None
    extra: dict[str, float | int | str | bool | None] = field(default_factory=dict)
    problem: str | None = None


@dataclass(slots=True)
class EndpointResult:
    endpoint: str
    ok: bool
    error: str | None = None
    items: int = 0
    path: str = ""  # the failing request's path (for grouping errors)
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "ok": self.ok, "error": self.error, "items": self.items}


@dataclass
class Fetched:
    """The outcome of one poll of one provider. ``replace`` lists ``(endpoint, start_ms, end_ms)``
    ranges the provider has just reported in full: stored rows there are replaced, not merged."""

    provider: str
    buckets: list[Bucket] = field(default_factory=list)
    balances: list[Balance] = field(default_factory=list)
    endpoints: list[EndpointResult] = field(default_factory=list)
    replace: list[tuple[str, int, int]] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0  # how long the fetch took

    def run(self, endpoint: str, fn: Callable[[], T]) -> T | None:
        """Run one endpoint's fetch; its failure is recorded and does not stop the others."""
        try:
            out = fn()
        except ProviderError as e:
            self.endpoints.append(EndpointResult(endpoint, False, str(e), 0, e.endpoint, e.problem))
            return None
        n = len(out) if isinstance(out, list) else 1
        self.endpoints.append(EndpointResult(endpoint, True, None, n))
        return out

    @property
    def ok(self) -> bool:
        return bool(self.endpoints) and all(e.ok for e in self.endpoints)

    @property
    def any_ok(self) -> bool:
        return any(e.ok for e in self.endpoints)

    @property
    def error(self) -> str | None:
        """One line: failures with the same problem are named together (``openai /a, /b: HTTP 401 …``)."""
        groups: dict[str, list[str]] = {}
        for e in self.endpoints:
            if not e.ok and e.error:
                if e.problem:
                    groups.setdefault(e.problem, []).append(e.path)
                else:
                    groups.setdefault(e.error, [])
        if not groups:
            return None
        text = "; ".join(f"{self.provider} {', '.join(paths)}: {problem}" if paths else problem
                         for problem, paths in groups.items())
        return ("partial: " + text) if self.any_ok else text


def shape_error(provider: str, endpoint: str, what: str) -> ProviderError:
    return ProviderError(provider, endpoint, f"unexpected response shape: {what}")


def money(value: Any, provider: str, endpoint: str, what: str) -> Decimal:
    """A finite amount from a JSON number or a decimal string; anything else is a shape error."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise shape_error(provider, endpoint, f"{what} is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise shape_error(provider, endpoint, f"{what} is not finite")
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise shape_error(provider, endpoint, f"{what} is not a number") from None
    if not d.is_finite():
        raise shape_error(provider, endpoint, f"{what} is not finite")
    return d


def count(value: Any, provider: str, endpoint: str, what: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise shape_error(provider, endpoint, f"{what} is not a token count")
    return int(value)


def utc_midnight(ms: int) -> int:
    return ms - ms % DAY_MS


def month_start_ms(ms: int) -> int:
    d = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return int(datetime(d.year, d.month, 1, tzinfo=UTC).timestamp() * 1000)


def parse_rfc3339(value: Any, provider: str, endpoint: str) -> int:
    if not isinstance(value, str):
        raise shape_error(provider, endpoint, "a bucket time is not a string")
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise shape_error(provider, endpoint, f"bad time {value[:40]!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
