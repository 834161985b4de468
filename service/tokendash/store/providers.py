"""Provider billing in the store: reported buckets, balance history and poll state (issue 5).

A poll's result is written in one transaction: the ranges a provider has just reported in full are
replaced (so a corrected or vanished row cannot linger), balances are appended as history, and the
provider's state records the poll. Money is integer nano-units of its own currency plus nano-USD
through the rates in force when it was written (NULL when there is no rate).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, select
from sqlalchemy.engine import Engine

from tokendash.providers.model import Balance, Bucket, Fetched
from tokendash.store import models as m

NANO = Decimal(1_000_000_000)


def nano(d: Decimal | None) -> int | None:
    return None if d is None else int((d * NANO).to_integral_value())


def to_usd(amount: Decimal | None, currency: str | None, fx: Mapping[str, float]) -> Decimal | None:
    """USD through the configured rates (1 unit = rate USD); None when there is no rate."""
    if amount is None or not currency:
        return None
    cur = currency.upper()
    if cur == "USD":
        return amount
    rate = fx.get(cur)
    return None if rate is None else amount * Decimal(str(rate))


@dataclass(slots=True)
class ProviderStateRow:
    provider: str
    last_poll_ms: int | None
    last_success_ms: int | None
    error: str | None
    endpoints: list[dict[str, Any]]
    items: int
    requests: int


def _insert(engine: Engine, table: Any) -> Any:
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def _merge(buckets: list[Bucket]) -> dict[tuple[str, int, str], Bucket]:
    """One row per (endpoint, start, dim): a provider may split what we group as one."""
    out: dict[tuple[str, int, str], Bucket] = {}
    for b in buckets:
        k = (b.endpoint, b.start_ms, b.dim)
        have = out.get(k)
        if have is None:
            out[k] = Bucket(**{f: getattr(b, f) for f in Bucket.__slots__})  # type: ignore[attr-defined]
            continue
        for f in ("input", "output", "cache_read", "cache_write", "reasoning", "requests"):
            setattr(have, f, getattr(have, f) + getattr(b, f))
        if b.cost is not None:
            have.cost = (have.cost or Decimal(0)) + b.cost
            have.currency = have.currency or b.currency
    return out


def write_poll(engine: Engine, host: str, fetched: Fetched, now_ms: int, fx: Mapping[str, float],
               retention_days: int | None = None) -> int:
    """Store one provider poll; returns the number of bucket and balance rows written. Balance readings
    older than ``retention_days`` are dropped (``historyRetentionDays``); daily buckets are kept."""
    p = fetched.provider
    buckets = _merge(fetched.buckets)
    rows = [
        {
            "host": host, "provider": p, "endpoint": b.endpoint, "start_ms": b.start_ms, "end_ms": b.end_ms,
            "dim": b.dim, "model": b.model, "input": b.input, "output": b.output, "cache_read": b.cache_read,
            "cache_write": b.cache_write, "reasoning": b.reasoning, "requests": b.requests,
            "cost_nano": nano(b.cost), "currency": b.currency, "cost_nusd": nano(to_usd(b.cost, b.currency, fx)),
            "updated_ms": now_ms,
        }
        for b in buckets.values()
    ]
    bal_rows = [_balance_row(host, p, b, now_ms, fx) for b in fetched.balances]
    t = m.provider_buckets
    with engine.begin() as conn:
        for endpoint, start, end in fetched.replace:
            conn.execute(delete(t).where(and_(
                t.c.provider == p, t.c.endpoint == endpoint, t.c.start_ms >= start, t.c.start_ms < end
            )))
        if rows:
            ins = _insert(engine, t)
            upd = {c: ins.excluded[c] for c in rows[0] if c not in ("provider", "endpoint", "start_ms", "dim")}
            conn.execute(ins.on_conflict_do_update(index_elements=["provider", "endpoint", "start_ms", "dim"], set_=upd), rows)
        if retention_days:
            bt = m.provider_balances
            conn.execute(delete(bt).where(and_(bt.c.provider == p, bt.c.ts_ms < now_ms - retention_days * 86_400_000)))
        if bal_rows:
            ins = _insert(engine, m.provider_balances)
            conn.execute(ins.on_conflict_do_nothing(index_elements=["provider", "kind", "key", "ts_ms"]), bal_rows)
        _state(engine, conn, fetched, now_ms, len(rows) + len(bal_rows))
    return len(rows) + len(bal_rows)


def _balance_row(host: str, provider: str, b: Balance, now_ms: int, fx: Mapping[str, float]) -> dict[str, Any]:
    extra = dict(b.extra)
    if b.problem:
        extra["problem"] = b.problem
    return {
        "host": host, "provider": provider, "kind": b.kind, "key": b.key, "ts_ms": now_ms, "currency": b.currency,
        "amount_nano": nano(b.amount), "limit_nano": nano(b.limit), "amount_nusd": nano(to_usd(b.amount, b.currency, fx)),
        "extra": json.dumps(extra, sort_keys=True),
    }


def _state(engine: Engine, conn: Any, fetched: Fetched, now_ms: int, items: int | None) -> None:
    """Upsert the poll state without reading first: a read-then-write transaction on SQLite can fail at
    once with "database is locked" when another writer commits in between (WAL snapshot)."""
    values: dict[str, Any] = {
        "last_poll_ms": now_ms,
        "error": fetched.error,
        "endpoints": json.dumps([e.as_dict() for e in fetched.endpoints]),
        "requests": fetched.requests,
    }
    if items is not None:
        values["items"] = items
    if fetched.any_ok:
        values["last_success_ms"] = now_ms
    ins = _insert(engine, m.provider_state)
    conn.execute(
        ins.values(provider=fetched.provider, **{"items": 0, **values}).on_conflict_do_update(
            index_elements=["provider"], set_=values
        )
    )


def record_failure(engine: Engine, fetched: Fetched, now_ms: int) -> None:
    """A poll that got nothing: only the state changes; the last good figures (and count) stay."""
    with engine.begin() as conn:
        _state(engine, conn, fetched, now_ms, None)


def states(engine: Engine) -> dict[str, ProviderStateRow]:
    with engine.connect() as conn:
        rows = conn.execute(select(m.provider_state)).all()
    return {
        r.provider: ProviderStateRow(r.provider, r.last_poll_ms, r.last_success_ms, r.error,
                                     json.loads(r.endpoints or "[]"), r._mapping["items"], r.requests)
        for r in rows
    }


def buckets(engine: Engine, provider: str, since_ms: int) -> list[Any]:
    t = m.provider_buckets
    with engine.connect() as conn:
        return list(conn.execute(select(t).where(and_(t.c.provider == provider, t.c.end_ms > since_ms))).all())


def balances(engine: Engine, provider: str, since_ms: int = 0) -> list[Any]:
    """Balance history, oldest first."""
    t = m.provider_balances
    with engine.connect() as conn:
        return list(conn.execute(
            select(t).where(and_(t.c.provider == provider, t.c.ts_ms >= since_ms)).order_by(t.c.ts_ms, t.c.id)
        ).all())
