"""The tables. Time is UTC epoch milliseconds; money is integer nano-USD so sums are exact.

The schema itself is created by the Alembic migrations in ``migrations/versions``; these table objects
are what the queries are written against. ``tests/unit/test_store_schema.py`` checks the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

usage_events = Table(
    "usage_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(128), nullable=False),
    Column("source", String(64), nullable=False),
    Column("dedupe_key", String(512), nullable=False),
    Column("ts_ms", BigInteger, nullable=False),
    Column("provider", String(128), nullable=False),
    Column("model", String(256), nullable=False),
    Column("agent", String(256)),
    Column("project", String(512)),
    Column("session", String(256)),
    Column("channel", String(128)),
    Column("input", BigInteger, nullable=False, default=0),
    Column("output", BigInteger, nullable=False, default=0),
    Column("cache_read", BigInteger, nullable=False, default=0),
    Column("cache_write", BigInteger, nullable=False, default=0),
    Column("cache_write_1h", BigInteger, nullable=False, default=0),
    Column("reasoning", BigInteger, nullable=False, default=0),
    Column("rank", BigInteger, nullable=False, default=0),
    Column("cost_nusd", BigInteger),  # NULL when unpriced
    Column("cost_source", String(16), nullable=False),
    Column("model_fallback", Boolean, nullable=False, default=False),
    Column("ingested_ms", BigInteger, nullable=False),
    UniqueConstraint("source", "dedupe_key", name="uq_usage_events_source_key"),
    # Time first, then every summed column: a report by day, week or month reads only this index.
    Index("ix_usage_events_ts_cover", "ts_ms", "input", "output", "cache_read", "cache_write", "reasoning",
          "cost_nusd", "cost_source"),
)

file_cursors = Table(
    "file_cursors",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("path", String(4096), primary_key=True),
    Column("dev", BigInteger, nullable=False),
    Column("inode", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("parser_version", Integer, nullable=False),
    Column("state", Text, nullable=False, default="{}"),
)

source_state = Table(
    "source_state",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("last_poll_ms", BigInteger),
    Column("last_success_ms", BigInteger),
    Column("error", Text),
    Column("items", BigInteger, nullable=False, default=0),
    Column("files", BigInteger, nullable=False, default=0),
    Column("malformed_lines", BigInteger, nullable=False, default=0),
    Column("problems", Text, nullable=False, default="[]"),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(128), nullable=False),
    Column("source", String(64), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("key", String(256), nullable=False),
    Column("ts_ms", BigInteger, nullable=False),
    Column("data", Text, nullable=False),
    UniqueConstraint("source", "kind", "key", "ts_ms", name="uq_snapshots"),
    Index("ix_snapshots_kind_ts", "kind", "ts_ms"),
)

# Events a finer source replaced (see sources/runs.py): a late copy of one of these keys is not stored.
superseded_keys = Table(
    "superseded_keys",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("dedupe_key", String(512), primary_key=True),
    Column("by_source", String(64), nullable=False),
    Column("ts_ms", BigInteger, nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("value", Text, nullable=False),
)

# -- provider billing APIs (issue 5) ----------------------------------------------------------------
# Money from a provider is kept in its own currency as integer nano-units (``*_nano``) next to its
# currency code; USD (nano-USD) is derived through the configured rates and may be NULL (no rate).

provider_buckets = Table(
    "provider_buckets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(128), nullable=False),
    Column("provider", String(64), nullable=False),
    Column("endpoint", String(64), nullable=False),  # which API reported it (usage vs cost rows)
    Column("start_ms", BigInteger, nullable=False),
    Column("end_ms", BigInteger, nullable=False),
    Column("dim", String(512), nullable=False),  # the grouping value (model, line item …), "" if none
    Column("model", String(256)),
    Column("input", BigInteger, nullable=False, default=0),
    Column("output", BigInteger, nullable=False, default=0),
    Column("cache_read", BigInteger, nullable=False, default=0),
    Column("cache_write", BigInteger, nullable=False, default=0),
    Column("reasoning", BigInteger, nullable=False, default=0),
    Column("requests", BigInteger, nullable=False, default=0),
    Column("cost_nano", BigInteger),  # NULL: a usage-only row
    Column("currency", String(8)),
    Column("cost_nusd", BigInteger),
    Column("updated_ms", BigInteger, nullable=False),
    UniqueConstraint("provider", "endpoint", "start_ms", "dim", name="uq_provider_buckets"),
    Index("ix_provider_buckets_provider_start", "provider", "start_ms"),
)

provider_balances = Table(
    "provider_balances",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(128), nullable=False),
    Column("provider", String(64), nullable=False),
    Column("kind", String(32), nullable=False),  # balance | key_remaining | spend_limit
    Column("key", String(128), nullable=False),  # which balance (credits, a currency, …)
    Column("ts_ms", BigInteger, nullable=False),
    Column("currency", String(8), nullable=False),
    Column("amount_nano", BigInteger),  # NULL: the provider sent no usable (finite) number
    Column("limit_nano", BigInteger),
    Column("amount_nusd", BigInteger),
    Column("extra", Text, nullable=False, default="{}"),  # whitelisted numeric details only
    UniqueConstraint("provider", "kind", "key", "ts_ms", name="uq_provider_balances"),
    Index("ix_provider_balances_provider_ts", "provider", "ts_ms"),
)

provider_state = Table(
    "provider_state",
    metadata,
    Column("provider", String(64), primary_key=True),
    Column("last_poll_ms", BigInteger),
    Column("last_success_ms", BigInteger),
    Column("error", Text),
    Column("endpoints", Text, nullable=False, default="[]"),
    Column("items", BigInteger, nullable=False, default=0),
    Column("requests", BigInteger, nullable=False, default=0),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(256), primary_key=True),  # type:scope, e.g. "budget:month-all"
    Column("type", String(32), nullable=False),
    Column("scope", String(256), nullable=False),
    Column("provider_id", String(64)),
    Column("severity", String(16), nullable=False),
    Column("state", String(16), nullable=False),  # open | resolved
    Column("message", Text, nullable=False),
    Column("first_seen_ms", BigInteger, nullable=False),
    Column("last_seen_ms", BigInteger, nullable=False),
    Column("resolved_ms", BigInteger),
    Index("ix_alerts_state", "state"),
)

# -- alert delivery (issue 6) ------------------------------------------------------------------------
# One row per (alert transition or digest) x webhook, written in the same transaction as the alert
# change. ``id`` is the delivery id sent to the receiver (X-Tokendash-Delivery-Id) for idempotency.
# The webhook is named by a hash of its settings, never by its URL (a Telegram URL holds the bot token).
outbox = Table(
    "outbox",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("webhook", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # alert | digest
    Column("alert_id", String(256)),
    Column("transition", String(16)),  # opened | severity | resolved (alerts only)
    Column("payload", Text, nullable=False),  # JSON; the format-specific body is rendered at send time
    Column("state", String(16), nullable=False),  # pending | delivered | failed | dropped
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_ms", BigInteger, nullable=False),
    Column("next_attempt_ms", BigInteger, nullable=False),
    Column("delivered_ms", BigInteger),
    Column("last_error", Text),  # masked: never a URL or token in clear
    Index("ix_outbox_state_webhook_created", "state", "webhook", "created_ms"),
)

# -- retention (issue 9) -----------------------------------------------------------------------------
# ``tokendash archive`` folds raw events older than historyRetentionDays into 15-minute UTC buckets
# (``ts_ms`` is the bucket's start), one row per bucket and combination of every dimension a report groups
# or filters on, per cost source; reports read usage_events ∪ usage_rollups (accounting/aggregate.py).
# 15 minutes: every IANA zone's offset is a multiple of 15 minutes, so local hours, days, weeks and months
# (DST changes included) cut rollups exactly where they cut the raw events.
usage_rollups = Table(
    "usage_rollups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts_ms", BigInteger, nullable=False),
    Column("host", String(128), nullable=False),
    Column("source", String(64), nullable=False),
    Column("provider", String(128), nullable=False),
    Column("model", String(256), nullable=False),
    Column("agent", String(256)),
    Column("project", String(512)),
    Column("session", String(256)),
    Column("channel", String(128)),
    Column("cost_source", String(16), nullable=False),
    Column("input", BigInteger, nullable=False),
    Column("output", BigInteger, nullable=False),
    Column("cache_read", BigInteger, nullable=False),
    Column("cache_write", BigInteger, nullable=False),
    Column("cache_write_1h", BigInteger, nullable=False),
    Column("reasoning", BigInteger, nullable=False),
    Column("cost_nusd", BigInteger),  # NULL when every folded event was unpriced
    Column("requests", BigInteger, nullable=False),  # how many events were folded into the row
    Column("archived_ms", BigInteger, nullable=False),
    Index("ix_usage_rollups_ts_cover", "ts_ms", "input", "output", "cache_read", "cache_write", "reasoning",
          "cost_nusd", "cost_source", "requests"),
)

# The dedupe keys of archived events: a copy read again (a log re-read, synced or replayed) is dropped.
archived_keys = Table(
    "archived_keys",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("dedupe_key", String(512), primary_key=True),
)

# The usage summary: what reports read instead of the events (accounting/aggregate.py). One row per
# 15-minute UTC bucket and (host, source, provider, model, agent, project, cost source), summed over
# events ∪ rollups; session and channel are left out, so its size follows the number of active
# combinations, not the number of calls. A bucket listed in ``dirty_buckets`` (written since its summary
# was made) is read from the events instead; ``Store.refresh_summary`` rebuilds dirty buckets.
_SUMMED = ("input", "output", "cache_read", "cache_write", "reasoning", "cost_nusd", "requests")


def _summary_columns() -> list[Column]:
    return [
        Column("ts_ms", BigInteger, nullable=False),
        Column("host", String(128), nullable=False),
        Column("source", String(64), nullable=False),
        Column("provider", String(128), nullable=False),
        Column("model", String(256), nullable=False),
        Column("agent", String(256)),
        Column("project", String(512)),
        Column("cost_source", String(16), nullable=False),
        Column("input", BigInteger, nullable=False),
        Column("output", BigInteger, nullable=False),
        Column("cache_read", BigInteger, nullable=False),
        Column("cache_write", BigInteger, nullable=False),
        Column("reasoning", BigInteger, nullable=False),
        Column("cost_nusd", BigInteger),
        Column("requests", BigInteger, nullable=False),
    ]


usage_summary = Table(
    "usage_summary",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *_summary_columns(),
    Index("ix_usage_summary_ts", "ts_ms"),
)

# The same by UTC day (``ts_ms`` = the day's start): the whole days of a period (dashboard, budgets, burn,
# /metrics) read one row per day and combination. A day with a dirty bucket is read at 15 minutes.
usage_summary_day = Table(
    "usage_summary_day",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *_summary_columns(),
    Index("ix_usage_summary_day_ts", "ts_ms"),
)

# Without any dimension, per 15 minutes and cost source: a report by time alone, in any zone, reads at
# most 3 rows per bucket whatever the number of events.
usage_totals = Table(
    "usage_totals",
    metadata,
    Column("ts_ms", BigInteger, primary_key=True, autoincrement=False),
    Column("cost_source", String(16), primary_key=True),
    *[c for c in _summary_columns() if c.name in _SUMMED],
)

dirty_buckets = Table(
    "dirty_buckets",
    metadata,
    Column("ts_ms", BigInteger, primary_key=True, autoincrement=False),
)
