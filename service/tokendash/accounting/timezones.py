"""Local days in an IANA zone, computed inside the database (SPEC §5 rule 9).

Events are stored in UTC. To bucket them by local day without pulling every row into Python, we split
the queried range into segments of constant UTC offset (DST transitions) and hand the database a
``CASE`` expression: ``local_ms = ts_ms + offset(ts_ms)``. The same SQL works on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tokendash.errors import InvalidParams

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
EPOCH = date(1970, 1, 1)


def system_timezone() -> str:
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz:
        return tz
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    try:
        name = Path("/etc/timezone").read_text().strip()
        if name:
            return name
    except OSError:
        pass
    return "UTC"


@lru_cache(maxsize=64)
def zone(name: str, field: str = "timezone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise InvalidParams(field, f"unknown time zone {name!r} (use an IANA name such as Europe/Amsterdam)") from e


def _offset_ms(tz: ZoneInfo, ms: int) -> int:
    off = datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(tz).utcoffset()
    return int(off.total_seconds() * 1000) if off else 0


def offset_segments(tz: ZoneInfo, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """``[(until_ms, offset_ms), …]``: the offset applies to instants before ``until_ms``; the last
    segment's ``until_ms`` is ``end_ms``. Transitions are located to the millisecond: an event (or an
    archived 15-minute bucket, ``store/archive.py``) starting at the transition is on its new side."""
    segs: list[tuple[int, int]] = []
    t = start_ms
    cur = _offset_ms(tz, t)
    step = DAY_MS
    while t < end_ms:
        nxt = min(t + step, end_ms)
        off = _offset_ms(tz, nxt)
        if off != cur:
            lo, hi = t, nxt  # offset(lo) == cur, offset(hi) != cur
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_ms(tz, mid) == cur:
                    lo = mid
                else:
                    hi = mid
            segs.append((hi, cur))
            cur = _offset_ms(tz, hi)
            t = hi
        else:
            t = nxt
    segs.append((end_ms, cur))
    return segs


def local_ms_sql(tz: ZoneInfo, start_ms: int, end_ms: int, column: str = "ts_ms") -> str:
    segs = offset_segments(tz, start_ms, end_ms)
    if len(segs) == 1:
        return f"({column} + {segs[0][1]})"
    whens = " ".join(f"WHEN {column} < {until} THEN {off}" for until, off in segs[:-1])
    return f"({column} + CASE {whens} ELSE {segs[-1][1]} END)"


def local_midnight_ms(d: date, tz: ZoneInfo) -> int:
    """UTC instant of local midnight starting day ``d``."""
    return int(datetime(d.year, d.month, d.day, tzinfo=tz).timestamp() * 1000)


def day_from_index(idx: int) -> date:
    return EPOCH + timedelta(days=idx)


def today(tz: ZoneInfo, now_ms: int) -> date:
    return datetime.fromtimestamp(now_ms / 1000, tz=tz).date()
