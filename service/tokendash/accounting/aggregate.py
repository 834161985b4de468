"""Grouping usage into ``UsageRow`` and ``Totals`` (SPEC §6, §8 ``token-dashboard.usage``).

The database does the heavy lifting (one ``GROUP BY`` over the events, local days computed in SQL, see
``timezones``); Python only folds days into weeks and months and shapes the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from tokendash.accounting.timezones import (
    DAY_MS,
    HOUR_MS,
    day_from_index,
    local_midnight_ms,
    local_ms_sql,
    zone,
)
from tokendash.errors import InvalidParams
from tokendash.store.reader import Reader, SqliteReader, as_reader

DIMENSIONS = ("provider", "model", "source", "agent", "project", "session", "host", "channel")
GRAINS = ("hour", "day", "week", "month")
FILTERS = ("provider", "model", "source", "agent", "project", "host", "session")

# Output key for each grain (``date`` for days as in ccusage and the SPEC's UsageRow example).
GRAIN_KEY = {"hour": "hour", "day": "date", "week": "week", "month": "month"}


@dataclass
class UsageQuery:
    since: date | None = None  # inclusive, local date
    until: date | None = None  # inclusive, local date
    timezone: str = "UTC"
    group_by: Sequence[str] = ("day",)
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    limit: int | None = None
    # For rolling windows ("last 24 h"): explicit UTC bounds override since/until.
    start_ms: int | None = None
    end_ms: int | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any], default_tz: str) -> UsageQuery:
        """Parse ``token-dashboard.usage`` params; every error names the field."""
        if not isinstance(params, Mapping):
            raise InvalidParams("params", "must be an object")
        allowed = {"scope", "since", "until", "timezone", "groupBy", "filters", "limit"}
        for k in params:
            if k not in allowed:
                raise InvalidParams(k, f"unknown parameter; use {', '.join(sorted(allowed))}")
        tz = params.get("timezone") or default_tz
        if not isinstance(tz, str):
            raise InvalidParams("timezone", "must be a string")
        zone(tz)
        group_by = params.get("groupBy", ["day"])
        if isinstance(group_by, str):
            group_by = [g for g in group_by.split(",") if g]
        if not isinstance(group_by, list) or not all(isinstance(g, str) for g in group_by):
            raise InvalidParams("groupBy", "must be a list of strings")
        filters_in = params.get("filters") or {}
        if not isinstance(filters_in, Mapping):
            raise InvalidParams("filters", "must be an object")
        filters: dict[str, list[str]] = {}
        for k, v in filters_in.items():
            vals = [v] if isinstance(v, str) else v
            if not isinstance(vals, list) or not all(isinstance(x, str) for x in vals):
                raise InvalidParams(f"filters.{k}", "must be a string or a list of strings")
            filters[k] = vals
        limit = params.get("limit")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise InvalidParams("limit", "must be an integer")
        import time

        from tokendash.accounting.timezones import today as today_in

        now = today_in(zone(tz), int(time.time() * 1000))
        q = cls(
            since=parse_day(params.get("since"), "since", now),
            until=parse_day(params.get("until"), "until", now),
            timezone=tz,
            group_by=group_by,
            filters=filters,
            limit=limit,
        )
        q.validate()
        return q

    def validate(self) -> tuple[list[str], str | None]:
        dims: list[str] = []
        grain: str | None = None
        for g in self.group_by:
            if g in GRAINS:
                if grain is not None:
                    raise InvalidParams("groupBy", "at most one time grain (hour, day, week, month)")
                grain = g
            elif g in DIMENSIONS:
                if g not in dims:
                    dims.append(g)
            else:
                raise InvalidParams("groupBy", f"unknown dimension {g!r}; use {', '.join(DIMENSIONS + GRAINS)}")
        for k in self.filters:
            if k not in FILTERS:
                raise InvalidParams(f"filters.{k}", f"unknown filter; use {', '.join(FILTERS)}")
        if self.since and self.until and self.since > self.until:
            raise InvalidParams("since", "since is after until")
        if self.limit is not None and self.limit < 1:
            raise InvalidParams("limit", "must be a positive integer")
        return dims, grain


RELATIVE_DAYS = "today, yesterday, week (this week, Monday start), month (this month), Nd (last N days), all"


def parse_day(v: Any, field: str, today: date | None = None) -> date | None:
    """``YYYY-MM-DD``, ``YYYYMMDD`` (ccusage's form), or a period relative to ``today`` in the report's
    zone: ``today``, ``yesterday``, ``week``, ``month``, ``30d`` (the last 30 days, today included), ``all``."""
    if v is None or v == "":
        return None
    if not isinstance(v, str):
        raise InvalidParams(field, "must be a date string YYYY-MM-DD")
    s = v.strip().lower()
    if s in ("all", "today", "yesterday", "week", "month") or (s.endswith("d") and s[:-1].isdigit()):
        if today is None:
            raise InvalidParams(field, f"{v!r}: relative days need a time zone")
        if s == "all":
            return None
        if s == "today":
            return today
        if s == "yesterday":
            return today - timedelta(days=1)
        if s == "week":
            return today - timedelta(days=today.weekday())
        if s == "month":
            return today.replace(day=1)
        if s.endswith("d") and s[:-1].isdigit() and int(s[:-1]) >= 1:
            return today - timedelta(days=int(s[:-1]) - 1)
        raise InvalidParams(field, f"{v!r} is not a date (use YYYY-MM-DD or {RELATIVE_DAYS})")
    if len(s) == 8 and s.isdigit():
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    try:
        return date.fromisoformat(s)
    except ValueError as e:
        raise InvalidParams(field, f"{v!r} is not a date (use YYYY-MM-DD or {RELATIVE_DAYS})") from e


def empty_totals() -> dict[str, Any]:
    return {
        "tokens": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "reasoning": 0, "total": 0},
        "costUsd": 0.0,
        "billedCostUsd": 0.0,
        "estimatedCostUsd": 0.0,
        "unpricedTokens": 0,
        "requests": 0,
    }


@dataclass
class _Acc:
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    reasoning: int = 0
    cost_nusd: int = 0
    est_nusd: int = 0
    unpriced: int = 0
    requests: int = 0

    def add(self, r: Sequence[int]) -> None:
        self.input += r[0]
        self.output += r[1]
        self.cache_read += r[2]
        self.cache_write += r[3]
        self.reasoning += r[4]
        self.cost_nusd += r[5]
        self.est_nusd += r[6]
        self.unpriced += r[7]
        self.requests += r[8]

    def sums(self) -> list[int]:
        return [self.input, self.output, self.cache_read, self.cache_write, self.reasoning, self.cost_nusd,
                self.est_nusd, self.unpriced, self.requests]

    def totals(self) -> dict[str, Any]:
        return {
            "tokens": {
                "input": self.input,
                "output": self.output,
                "cacheRead": self.cache_read,
                "cacheWrite": self.cache_write,
                "reasoning": self.reasoning,
                "total": self.input + self.output + self.cache_read + self.cache_write,
            },
            "costUsd": self.cost_nusd / 1e9,
            "billedCostUsd": 0.0,  # local events are attributions, never bills (SPEC §5 rule 6)
            "estimatedCostUsd": self.est_nusd / 1e9,
            "unpricedTokens": self.unpriced,
            "requests": self.requests,
        }


_SUMS_OF = (
    "SUM(input), SUM(output), SUM(cache_read), SUM(cache_write), SUM(reasoning), "
    "SUM(COALESCE(cost_nusd, 0)), "
    "SUM(CASE WHEN cost_source = 'estimated' THEN cost_nusd ELSE 0 END), "
    "SUM(CASE WHEN cost_source = 'unpriced' THEN input + output + cache_read + cache_write ELSE 0 END), "
)
_SUMS = _SUMS_OF + "COUNT(*)"  # over usage_events: one row per request

# Reports read the raw events and the rollups archived events were folded into (store/archive.py). A
# rollup row is one 15-minute UTC bucket (``ts_ms`` = its start) with the same summed columns, one
# cost source, and ``requests`` = how many events it holds; every sum above is linear, so summing rollups
# gives what summing their events gave. Time bounds of reports are local midnights or hours, which fall
# on 15-minute UTC boundaries in every IANA zone, so a bucket is never cut.
BUCKET_MS = 900_000
TABLES = {"usage_events": _SUMS, "usage_rollups": _SUMS_OF + "SUM(requests)",
          "usage_summary": _SUMS_OF + "SUM(requests)", "usage_summary_day": _SUMS_OF + "SUM(requests)",
          "usage_totals": _SUMS_OF + "SUM(requests)"}

# The summary (store/models.py ``usage_summary``): 15-minute buckets by every dimension but session and
# channel, kept by the writers (dirty buckets) and ``Store.refresh_summary``. A report grouped and filtered
# by these dimensions only (every dashboard figure, budgets, burn, /metrics, report daily/weekly/monthly
# by provider/model/agent/project/source/host) reads it: its cost follows the number of active
# combinations per bucket, not the number of events. Session and channel reports read the events.
SUMMARY_DIMS = frozenset({"provider", "model", "source", "agent", "project", "host"})
USE_SUMMARY = True  # tests compare the three paths


def _bounds(conn: Reader, q: UsageQuery, tz: Any) -> tuple[int, int, list[tuple[str, bool]]] | None:
    """``(lo, hi, [(table, use_index)])``: the time range to read, the tables holding rows in it, and for
    each whether the range is narrow enough that its ``ts_ms`` index beats a plain scan (a range lookup per
    row costs ~2x a sequential read)."""
    if q.start_ms is not None or q.end_ms is not None:
        lo = q.start_ms if q.start_ms is not None else 0
        hi = q.end_ms if q.end_ms is not None else 2**62
    else:
        lo = local_midnight_ms(q.since, tz) if q.since else 0
        hi = local_midnight_ms(q.until + timedelta(days=1), tz) if q.until else 2**62
    # Four index probes (one MIN or MAX per SELECT, or SQLite scans the whole index).
    rows = conn.all(
        "SELECT (SELECT MIN(ts_ms) FROM usage_events), (SELECT MAX(ts_ms) FROM usage_events), "
        "(SELECT MIN(ts_ms) FROM usage_rollups), (SELECT MAX(ts_ms) FROM usage_rollups)"
    )
    row = rows[0] if rows else (None, None, None, None)
    spans = {}
    if row[0] is not None:
        spans["usage_events"] = (int(row[0]), int(row[1]) + 1)
    if row[2] is not None:
        spans["usage_rollups"] = (int(row[2]), int(row[3]) + 1)
    if not spans:
        return None
    first = min(a for a, _ in spans.values())
    first -= first % BUCKET_MS  # never above the start of a bucket its events may be folded into meanwhile
    last = max(b for _, b in spans.values())
    lo, hi = max(lo, first), min(hi, last)
    if lo >= hi:
        return None
    tables = [(t, (hi - lo) * 4 < b - a) for t, (a, b) in spans.items() if a < hi and lo < b]
    return (lo, hi, tables) if tables else None


def usage(conn: Any, q: UsageQuery) -> dict[str, Any]:
    """The ``token-dashboard.usage`` result: ``{rows: [UsageRow], totals: Totals}``. ``conn`` is a
    ``store.reader.Reader`` or a SQLAlchemy connection."""
    conn = as_reader(conn)
    dims, grain = q.validate()
    tz = zone(q.timezone)
    bounds = _bounds(conn, q, tz)
    if bounds is None:
        return {"rows": [], "totals": empty_totals()}
    lo, hi, tables = bounds
    a, b = -(-lo // BUCKET_MS) * BUCKET_MS, hi - hi % BUCKET_MS  # the whole buckets inside [lo, hi)
    summary = (USE_SUMMARY and a < b and set(dims) <= SUMMARY_DIMS
               and all(k in SUMMARY_DIMS for k, v in q.filters.items() if v))
    if (not summary and grain in ("day", "week", "month") and not dims and not any(q.filters.values())
            and isinstance(conn, SqliteReader)):
        periods = _periods(grain, lo, hi, tz)
        if len(periods) <= MAX_RANGE_QUERIES:
            return _by_ranges(conn, q, grain, periods, [t for t, _ in tables])
    where: list[str] = []
    params: dict[str, Any] = {"lo": lo, "hi": hi}
    for k, values in q.filters.items():
        vals = [v for v in values if v is not None]
        if not vals:
            continue
        names = []
        for i, v in enumerate(vals):
            params[f"f_{k}_{i}"] = v
            names.append(f":f_{k}_{i}")
        where.append(f"{k} IN ({', '.join(names)})")
    def keys(column: str = "ts_ms") -> list[str]:
        out = []
        if grain == "hour":
            out.append(f"({local_ms_sql(tz, lo, hi, column)}) / {HOUR_MS}")
        elif grain is not None:
            out.append(f"({local_ms_sql(tz, lo, hi, column)}) / {DAY_MS}")
        return out + dims

    select_keys = keys()
    group = f" GROUP BY {', '.join(str(i + 1) for i in range(len(select_keys)))}" if select_keys else ""
    # One statement, one snapshot: an archive moving rows from the events to the rollups, or a summary
    # refresh, meanwhile can neither hide rows nor count them twice.
    parts = []
    if summary:
        # Whole buckets from the summary, except dirty ones (written since their summary was made), which
        # are read from their events and rollups (an index range each); partial buckets at the ends of
        # [lo, hi) (a rolling window, the newest event) from the events and rollups.
        params.update(a=a, b=b)
        f = "".join(f" AND {w}" for w in where)
        sel = ", ".join([*select_keys, TABLES["usage_summary"]])
        # NOT EXISTS, not NOT IN: an anti-join probing the primary key (PostgreSQL re-scans a NOT IN
        # subquery per row when it does not expect it to fit in memory).
        clean = "NOT EXISTS (SELECT 1 FROM dirty_buckets x WHERE x.ts_ms = s.ts_ms)"
        d0, d1 = -(-a // DAY_MS) * DAY_MS, b - b % DAY_MS  # the whole UTC days inside [a, b)
        if not dims and not where:  # by time alone: per bucket and cost source
            parts.append(f"SELECT {sel} FROM usage_totals s WHERE ts_ms >= :a AND ts_ms < :b AND {clean}{group}")
        elif grain is None and d0 < d1:
            # Whole UTC days from the day rows, except days holding a dirty bucket (their clean buckets
            # at 15 minutes); the buckets before the first and after the last whole day at 15 minutes.
            params.update(d0=d0, d1=d1)
            parts.append(f"SELECT {sel} FROM usage_summary_day s WHERE ts_ms >= :d0 AND ts_ms < :d1 AND NOT EXISTS "
                         f"(SELECT 1 FROM dirty_buckets x WHERE x.ts_ms >= s.ts_ms AND x.ts_ms < s.ts_ms + {DAY_MS})"
                         f"{f}{group}")
            for x, y in (("a", "d0"), ("d1", "b")):  # two plain ranges: an OR of two would scan (SQLite)
                if params[x] < params[y]:
                    parts.append(f"SELECT {sel} FROM usage_summary s WHERE ts_ms >= :{x} AND ts_ms < :{y} "
                                 f"AND {clean}{f}{group}")
            dd = (f"(SELECT DISTINCT (ts_ms / {DAY_MS}) * {DAY_MS} AS day FROM dirty_buckets "
                  "WHERE ts_ms >= :d0 AND ts_ms < :d1) dd")
            src, on = per_bucket(conn, dd, "usage_summary", "s", "{t}.ts_ms >= dd.day AND {t}.ts_ms < dd.day + " + str(DAY_MS))
            parts.append(f"SELECT {sel} FROM {src} WHERE {on}{clean}{f}{group}")
        else:
            parts.append(f"SELECT {sel} FROM usage_summary s WHERE ts_ms >= :a AND ts_ms < :b AND {clean}{f}{group}")
        dirty = "d.ts_ms >= :a AND d.ts_ms < :b"
        src, on = per_bucket(conn, "dirty_buckets d", "usage_events", "e",
                             "{t}.ts_ms >= d.ts_ms AND {t}.ts_ms < d.ts_ms + " + str(BUCKET_MS))
        parts.append(f"SELECT {', '.join([*keys('e.ts_ms'), TABLES['usage_events']])} FROM {src} WHERE {on}{dirty}{f}{group}")
        src, on = per_bucket(conn, "dirty_buckets d", "usage_rollups", "r", "{t}.ts_ms = d.ts_ms")
        parts.append(f"SELECT {', '.join([*keys('r.ts_ms'), TABLES['usage_rollups']])} FROM {src} WHERE {on}{dirty}{f}{group}")
        for table, _ in tables:
            for x, y in (("lo", "a"), ("b", "hi")):
                if params[x] < params[y]:
                    parts.append(f"SELECT {', '.join([*select_keys, TABLES[table]])} FROM {table} "
                                 f"WHERE ts_ms >= :{x} AND ts_ms < :{y}{f}{group}")
    else:
        for table, use_index in tables:
            col = "ts_ms" if use_index else "+ts_ms"  # unary + keeps SQLite (and PostgreSQL) off the index
            cond = " AND ".join([f"{col} >= :lo", f"{col} < :hi", *where])
            parts.append(f"SELECT {', '.join([*select_keys, TABLES[table]])} FROM {table} WHERE {cond}{group}")
    result = conn.all(" UNION ALL ".join(parts), params)

    nkeys = len(select_keys)
    grouped: dict[tuple, _Acc] = {}
    total = _Acc()
    for r in result:
        sums = [int(x or 0) for x in r[nkeys:]]
        if sums[8] == 0:
            continue
        key = tuple(r[:nkeys])
        if grain is not None:
            key = (_grain_label(grain, int(key[0])), *key[1:])
        acc = grouped.get(key)
        if acc is None:
            acc = grouped[key] = _Acc()
        acc.add(sums)
        total.add(sums)

    names = ([GRAIN_KEY[grain]] if grain else []) + dims
    rows = []
    for key, acc in grouped.items():
        row: dict[str, Any] = dict(zip(names, key, strict=True))
        row.update(acc.totals())
        rows.append(row)
    if grain is not None:
        rows.sort(key=lambda r: (r[GRAIN_KEY[grain]], *[(r[d] or "") for d in dims]))
    else:
        rows.sort(key=lambda r: (-r["costUsd"], -r["tokens"]["total"]))
    if q.limit is not None:
        rows = rows[-q.limit :] if grain is not None else rows[: q.limit]
    return {"rows": rows, "totals": total.totals()}


MAX_RANGE_QUERIES = 400


def per_bucket(conn: Reader, outer: str, table: str, alias: str, cond: str) -> tuple[str, str]:
    """``(FROM clause, WHERE prefix)`` reading ``table`` only inside the rows of ``outer`` (a few dirty
    buckets or days), whatever the planner believes about their number: ``{t}`` in ``cond`` is the inner
    table. PostgreSQL: a LATERAL subquery behind ``OFFSET 0`` (never flattened into a join it might
    drive from the big side: with stale statistics of the dirty table it scanned 10^7 events per query);
    SQLite: CROSS JOIN, which keeps the left table outside."""
    if _is_sqlite(conn):
        return f"{outer} CROSS JOIN {table} {alias}", cond.format(t=alias) + " AND "
    return f"{outer} CROSS JOIN LATERAL (SELECT * FROM {table} WHERE {cond.format(t=table)} OFFSET 0) {alias}", ""


def _is_sqlite(conn: Reader) -> bool:
    if isinstance(conn, SqliteReader):
        return True
    c = getattr(conn, "conn", None)
    return getattr(getattr(c, "dialect", None), "name", "sqlite") == "sqlite"


def _periods(grain: str, lo: int, hi: int, tz: Any) -> list[tuple[str, int, int]]:
    """``(label, start_ms, end_ms)`` of each local day / week (Monday) / month touching ``[lo, hi)``."""
    from datetime import datetime

    d = datetime.fromtimestamp(lo / 1000, tz=tz).date()
    if grain == "week":
        d -= timedelta(days=d.weekday())
    elif grain == "month":
        d = d.replace(day=1)
    out = []
    start = local_midnight_ms(d, tz)
    while start < hi and len(out) <= MAX_RANGE_QUERIES:
        if grain == "day":
            nxt, label = d + timedelta(days=1), d.isoformat()
        elif grain == "week":
            nxt, label = d + timedelta(days=7), d.isoformat()
        else:
            nxt, label = (d.replace(day=28) + timedelta(days=4)).replace(day=1), f"{d.year:04d}-{d.month:02d}"
        end = local_midnight_ms(nxt, tz)
        out.append((label, max(start, lo), min(end, hi)))
        d, start = nxt, end
    return out


def _by_ranges(conn: Reader, q: UsageQuery, grain: str, periods: list[tuple[str, int, int]],
               tables: list[str]) -> dict[str, Any]:
    """The same result as the ``GROUP BY`` over local periods, as one range sum per period read from the
    covering time indexes (no table rows, no sort): ~3x faster for a report by day over 10^5 events."""
    sql = " UNION ALL ".join(f"SELECT {TABLES[t]} FROM {t} WHERE ts_ms >= :lo AND ts_ms < :hi" for t in tables)
    rows, total = [], _Acc()
    for label, start, end in periods:
        acc = _Acc()
        for r in conn.all(sql, {"lo": start, "hi": end}):
            acc.add([int(x or 0) for x in r])
        if acc.requests == 0:
            continue
        total.add(acc.sums())
        rows.append({GRAIN_KEY[grain]: label, **acc.totals()})
    if q.limit is not None:
        rows = rows[-q.limit :]
    return {"rows": rows, "totals": total.totals()}


def _grain_label(grain: str, idx: int) -> str:
    if grain == "hour":
        d = day_from_index(idx // 24)
        return f"{d.isoformat()}T{idx % 24:02d}:00"
    d = day_from_index(idx)
    if grain == "day":
        return d.isoformat()
    if grain == "week":
        return (d - timedelta(days=d.weekday())).isoformat()  # Monday start
    return f"{d.year:04d}-{d.month:02d}"


def totals_of(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Sum UsageRows (used by renderers; exact for tokens, float for money)."""
    t = empty_totals()
    for r in rows:
        for k in t["tokens"]:
            t["tokens"][k] += r["tokens"][k]
        for k in ("costUsd", "billedCostUsd", "estimatedCostUsd"):
            t[k] += r[k]
        t["unpricedTokens"] += r["unpricedTokens"]
        t["requests"] += r["requests"]
    return t
