"""Pure arithmetic over stored provider rows: window sums, balance falls, burn and runway (SPEC §6).

Provider buckets are UTC days. A bucket's money is taken as spread evenly over the part of it that has
happened (``[start, min(end, now))``), so a trailing window that cuts a day takes that share of it and
today's bucket counts in full in any window that reaches now. Aligned periods (today, the last 7 days,
the month, all in UTC days) therefore take whole buckets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tokendash.providers.model import DAY_MS, month_start_ms, utc_midnight

HOUR_MS = 3_600_000
NANO = Decimal(1_000_000_000)
TOKEN_FIELDS = ("input", "output", "cache_read", "cache_write", "reasoning")


def next_month_ms(now_ms: int) -> int:
    d = datetime.fromtimestamp(month_start_ms(now_ms) / 1000, tz=UTC)
    nxt = datetime(d.year + (d.month == 12), d.month % 12 + 1, 1, tzinfo=UTC)
    return int(nxt.timestamp() * 1000)


def periods(now_ms: int) -> dict[str, tuple[int, int]]:
    """The reconciliation periods, in UTC days as the providers bucket them."""
    today = utc_midnight(now_ms)
    return {
        "today": (today, today + DAY_MS),
        "last7Days": (today - 6 * DAY_MS, today + DAY_MS),
        "month": (month_start_ms(now_ms), next_month_ms(now_ms)),
    }


def _share(start: int, end: int, a: int, b: int, now_ms: int) -> float:
    eff_end = min(end, now_ms) if start < now_ms else end
    if eff_end <= start:
        return 1.0 if a <= start < b else 0.0
    lo, hi = max(start, a), min(eff_end, b)
    return max(0, hi - lo) / (eff_end - start)


@dataclass
class Sum:
    usd: float = 0.0
    unconverted: int = 0  # rows with money in a currency that has no configured rate
    rows: int = 0
    tokens: dict[str, float] | None = None
    requests: float = 0.0


def window_sum(rows: Iterable[Any], a: int, b: int, now_ms: int, *, cost: bool) -> Sum:
    """Money (``cost=True``: cost rows) or tokens (usage rows) reported in ``[a, b)``."""
    s = Sum(tokens=dict.fromkeys(TOKEN_FIELDS, 0.0))
    assert s.tokens is not None
    for r in rows:
        share = _share(r.start_ms, r.end_ms, a, b, now_ms)
        if share <= 0:
            continue
        if cost:
            if r.cost_nano is None:
                continue
            s.rows += 1
            if r.cost_nusd is None:
                s.unconverted += 1
            else:
                s.usd += r.cost_nusd / 1e9 * share
        else:
            s.rows += 1
            for f in TOKEN_FIELDS:
                s.tokens[f] += getattr(r, f) * share
            s.requests += r.requests * share
    return s


@dataclass
class Fall:
    """How much a balance went down in a window: top-ups (rises) are skipped, so money spent between
    two readings that straddle a top-up is not seen; the figure is a lower bound."""

    native: Decimal
    usd: Decimal | None
    span_ms: int

    def per_day(self) -> tuple[Decimal, Decimal | None] | None:
        if self.span_ms <= 0:
            return None
        days = Decimal(self.span_ms) / Decimal(DAY_MS)
        return self.native / days, (self.usd / days if self.usd is not None else None)


def balance_fall(history: list[Any], a: int, now_ms: int, fx: Mapping[str, float]) -> Fall | None:
    """Fall of one balance (rows of one kind/key, oldest first) over ``[a, now]``; None with fewer than
    two usable readings."""
    pts = [r for r in history if a <= r.ts_ms <= now_ms and r.amount_nano is not None]
    if len(pts) < 2:
        return None
    fall = sum((max(0, p.amount_nano - q.amount_nano) for p, q in zip(pts, pts[1:], strict=False)), 0)
    native = Decimal(fall) / NANO
    cur = pts[-1].currency
    rate = Decimal(1) if cur == "USD" else (Decimal(str(fx[cur])) if cur in fx else None)
    return Fall(native, native * rate if rate is not None else None, pts[-1].ts_ms - pts[0].ts_ms)


def num(v: Decimal | float | int | None, places: int = 6) -> float | None:
    """A JSON number, never NaN or infinite (SPEC §5 rule 8)."""
    if v is None:
        return None
    f = float(v)
    if f != f or f in (float("inf"), float("-inf")):
        return None
    return round(f, places)
