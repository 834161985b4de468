from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TokenCounts(_message.Message):
    __slots__ = ("input", "output", "cache_read", "cache_write", "reasoning", "total")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_FIELD_NUMBER: _ClassVar[int]
    REASONING_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    input: int
    output: int
    cache_read: int
    cache_write: int
    reasoning: int
    total: int
    def __init__(self, input: _Optional[int] = ..., output: _Optional[int] = ..., cache_read: _Optional[int] = ..., cache_write: _Optional[int] = ..., reasoning: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class Totals(_message.Message):
    __slots__ = ("tokens", "cost_usd", "billed_cost_usd", "estimated_cost_usd", "unpriced_tokens", "requests")
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    BILLED_COST_USD_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COST_USD_FIELD_NUMBER: _ClassVar[int]
    UNPRICED_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    tokens: TokenCounts
    cost_usd: float
    billed_cost_usd: float
    estimated_cost_usd: float
    unpriced_tokens: int
    requests: int
    def __init__(self, tokens: _Optional[_Union[TokenCounts, _Mapping]] = ..., cost_usd: _Optional[float] = ..., billed_cost_usd: _Optional[float] = ..., estimated_cost_usd: _Optional[float] = ..., unpriced_tokens: _Optional[int] = ..., requests: _Optional[int] = ...) -> None: ...

class UsageRow(_message.Message):
    __slots__ = ("date", "hour", "week", "month", "provider", "model", "source", "agent", "project", "session", "host", "channel", "tokens", "cost_usd", "billed_cost_usd", "estimated_cost_usd", "unpriced_tokens", "requests")
    DATE_FIELD_NUMBER: _ClassVar[int]
    HOUR_FIELD_NUMBER: _ClassVar[int]
    WEEK_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    BILLED_COST_USD_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COST_USD_FIELD_NUMBER: _ClassVar[int]
    UNPRICED_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    date: str
    hour: str
    week: str
    month: str
    provider: str
    model: str
    source: str
    agent: str
    project: str
    session: str
    host: str
    channel: str
    tokens: TokenCounts
    cost_usd: float
    billed_cost_usd: float
    estimated_cost_usd: float
    unpriced_tokens: int
    requests: int
    def __init__(self, date: _Optional[str] = ..., hour: _Optional[str] = ..., week: _Optional[str] = ..., month: _Optional[str] = ..., provider: _Optional[str] = ..., model: _Optional[str] = ..., source: _Optional[str] = ..., agent: _Optional[str] = ..., project: _Optional[str] = ..., session: _Optional[str] = ..., host: _Optional[str] = ..., channel: _Optional[str] = ..., tokens: _Optional[_Union[TokenCounts, _Mapping]] = ..., cost_usd: _Optional[float] = ..., billed_cost_usd: _Optional[float] = ..., estimated_cost_usd: _Optional[float] = ..., unpriced_tokens: _Optional[int] = ..., requests: _Optional[int] = ...) -> None: ...

class Money(_message.Message):
    __slots__ = ("amount", "currency")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    amount: float
    currency: str
    def __init__(self, amount: _Optional[float] = ..., currency: _Optional[str] = ...) -> None: ...

class BalanceItem(_message.Message):
    __slots__ = ("kind", "key", "currency", "amount", "amount_usd", "as_of")
    KIND_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_USD_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    kind: str
    key: str
    currency: str
    amount: float
    amount_usd: float
    as_of: str
    def __init__(self, kind: _Optional[str] = ..., key: _Optional[str] = ..., currency: _Optional[str] = ..., amount: _Optional[float] = ..., amount_usd: _Optional[float] = ..., as_of: _Optional[str] = ...) -> None: ...

class EndpointStatus(_message.Message):
    __slots__ = ("endpoint", "ok", "error", "items")
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    endpoint: str
    ok: bool
    error: str
    items: int
    def __init__(self, endpoint: _Optional[str] = ..., ok: _Optional[bool] = ..., error: _Optional[str] = ..., items: _Optional[int] = ...) -> None: ...

class ProviderUsage(_message.Message):
    __slots__ = ("provider_id", "timestamp", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd", "balance_usd", "balance", "credit_limit_usd", "billed_cost_usd", "estimated_cost_usd", "cost_source", "balances", "limit_remaining_usd")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    BALANCE_USD_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_USD_FIELD_NUMBER: _ClassVar[int]
    BILLED_COST_USD_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COST_USD_FIELD_NUMBER: _ClassVar[int]
    COST_SOURCE_FIELD_NUMBER: _ClassVar[int]
    BALANCES_FIELD_NUMBER: _ClassVar[int]
    LIMIT_REMAINING_USD_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    timestamp: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float
    balance_usd: float
    balance: Money
    credit_limit_usd: float
    billed_cost_usd: float
    estimated_cost_usd: float
    cost_source: str
    balances: _containers.RepeatedCompositeFieldContainer[BalanceItem]
    limit_remaining_usd: float
    def __init__(self, provider_id: _Optional[str] = ..., timestamp: _Optional[str] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cache_read_tokens: _Optional[int] = ..., cache_write_tokens: _Optional[int] = ..., cost_usd: _Optional[float] = ..., balance_usd: _Optional[float] = ..., balance: _Optional[_Union[Money, _Mapping]] = ..., credit_limit_usd: _Optional[float] = ..., billed_cost_usd: _Optional[float] = ..., estimated_cost_usd: _Optional[float] = ..., cost_source: _Optional[str] = ..., balances: _Optional[_Iterable[_Union[BalanceItem, _Mapping]]] = ..., limit_remaining_usd: _Optional[float] = ...) -> None: ...

class BurnRate(_message.Message):
    __slots__ = ("provider_id", "tokens_per_hour", "tokens_per_day", "cost_per_hour", "cost_per_day", "runway_hours", "runway_days", "month_to_date_usd", "projected_month_end_usd", "basis", "stale", "cost_per_day_native", "total_balance_usd")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    COST_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    COST_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    RUNWAY_HOURS_FIELD_NUMBER: _ClassVar[int]
    RUNWAY_DAYS_FIELD_NUMBER: _ClassVar[int]
    MONTH_TO_DATE_USD_FIELD_NUMBER: _ClassVar[int]
    PROJECTED_MONTH_END_USD_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    COST_PER_DAY_NATIVE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BALANCE_USD_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    tokens_per_hour: float
    tokens_per_day: float
    cost_per_hour: float
    cost_per_day: float
    runway_hours: float
    runway_days: float
    month_to_date_usd: float
    projected_month_end_usd: float
    basis: str
    stale: bool
    cost_per_day_native: Money
    total_balance_usd: float
    def __init__(self, provider_id: _Optional[str] = ..., tokens_per_hour: _Optional[float] = ..., tokens_per_day: _Optional[float] = ..., cost_per_hour: _Optional[float] = ..., cost_per_day: _Optional[float] = ..., runway_hours: _Optional[float] = ..., runway_days: _Optional[float] = ..., month_to_date_usd: _Optional[float] = ..., projected_month_end_usd: _Optional[float] = ..., basis: _Optional[str] = ..., stale: _Optional[bool] = ..., cost_per_day_native: _Optional[_Union[Money, _Mapping]] = ..., total_balance_usd: _Optional[float] = ...) -> None: ...

class ProviderStatus(_message.Message):
    __slots__ = ("provider_id", "name", "is_configured", "is_reachable", "last_checked", "error", "current_usage", "burn_rate", "stale", "kind")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    IS_CONFIGURED_FIELD_NUMBER: _ClassVar[int]
    IS_REACHABLE_FIELD_NUMBER: _ClassVar[int]
    LAST_CHECKED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CURRENT_USAGE_FIELD_NUMBER: _ClassVar[int]
    BURN_RATE_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    name: str
    is_configured: bool
    is_reachable: bool
    last_checked: str
    error: str
    current_usage: ProviderUsage
    burn_rate: BurnRate
    stale: bool
    kind: str
    def __init__(self, provider_id: _Optional[str] = ..., name: _Optional[str] = ..., is_configured: _Optional[bool] = ..., is_reachable: _Optional[bool] = ..., last_checked: _Optional[str] = ..., error: _Optional[str] = ..., current_usage: _Optional[_Union[ProviderUsage, _Mapping]] = ..., burn_rate: _Optional[_Union[BurnRate, _Mapping]] = ..., stale: _Optional[bool] = ..., kind: _Optional[str] = ...) -> None: ...

class SourceStatus(_message.Message):
    __slots__ = ("id", "kind", "configured", "ok", "last_poll", "last_success", "error", "items", "stale")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CONFIGURED_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    LAST_POLL_FIELD_NUMBER: _ClassVar[int]
    LAST_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    configured: bool
    ok: bool
    last_poll: str
    last_success: str
    error: str
    items: int
    stale: bool
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., configured: _Optional[bool] = ..., ok: _Optional[bool] = ..., last_poll: _Optional[str] = ..., last_success: _Optional[str] = ..., error: _Optional[str] = ..., items: _Optional[int] = ..., stale: _Optional[bool] = ...) -> None: ...

class Periods(_message.Message):
    __slots__ = ("today", "week", "month")
    TODAY_FIELD_NUMBER: _ClassVar[int]
    WEEK_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    today: Totals
    week: Totals
    month: Totals
    def __init__(self, today: _Optional[_Union[Totals, _Mapping]] = ..., week: _Optional[_Union[Totals, _Mapping]] = ..., month: _Optional[_Union[Totals, _Mapping]] = ...) -> None: ...

class BudgetScope(_message.Message):
    __slots__ = ("provider", "agent", "project")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    provider: str
    agent: str
    project: str
    def __init__(self, provider: _Optional[str] = ..., agent: _Optional[str] = ..., project: _Optional[str] = ...) -> None: ...

class BudgetStatus(_message.Message):
    __slots__ = ("id", "period", "scope", "limit", "spent", "percent", "state", "projected", "currency", "period_start", "period_end")
    ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SPENT_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROJECTED_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    id: str
    period: str
    scope: BudgetScope
    limit: float
    spent: float
    percent: float
    state: str
    projected: float
    currency: str
    period_start: str
    period_end: str
    def __init__(self, id: _Optional[str] = ..., period: _Optional[str] = ..., scope: _Optional[_Union[BudgetScope, _Mapping]] = ..., limit: _Optional[float] = ..., spent: _Optional[float] = ..., percent: _Optional[float] = ..., state: _Optional[str] = ..., projected: _Optional[float] = ..., currency: _Optional[str] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ...) -> None: ...

class UsageAlert(_message.Message):
    __slots__ = ("id", "provider_id", "scope", "type", "message", "severity", "state", "first_seen", "last_seen", "timestamp")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    id: str
    provider_id: str
    scope: str
    type: str
    message: str
    severity: str
    state: str
    first_seen: str
    last_seen: str
    timestamp: str
    def __init__(self, id: _Optional[str] = ..., provider_id: _Optional[str] = ..., scope: _Optional[str] = ..., type: _Optional[str] = ..., message: _Optional[str] = ..., severity: _Optional[str] = ..., state: _Optional[str] = ..., first_seen: _Optional[str] = ..., last_seen: _Optional[str] = ..., timestamp: _Optional[str] = ...) -> None: ...

class ProviderInfo(_message.Message):
    __slots__ = ("id", "name", "kind", "is_configured", "is_reachable", "capabilities", "key_hint", "last_checked", "last_success", "error", "stale", "endpoints")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    IS_CONFIGURED_FIELD_NUMBER: _ClassVar[int]
    IS_REACHABLE_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    KEY_HINT_FIELD_NUMBER: _ClassVar[int]
    LAST_CHECKED_FIELD_NUMBER: _ClassVar[int]
    LAST_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    kind: str
    is_configured: bool
    is_reachable: bool
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    key_hint: str
    last_checked: str
    last_success: str
    error: str
    stale: bool
    endpoints: _containers.RepeatedCompositeFieldContainer[EndpointStatus]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[str] = ..., is_configured: _Optional[bool] = ..., is_reachable: _Optional[bool] = ..., capabilities: _Optional[_Iterable[str]] = ..., key_hint: _Optional[str] = ..., last_checked: _Optional[str] = ..., last_success: _Optional[str] = ..., error: _Optional[str] = ..., stale: _Optional[bool] = ..., endpoints: _Optional[_Iterable[_Union[EndpointStatus, _Mapping]]] = ...) -> None: ...

class UsageRecord(_message.Message):
    __slots__ = ("idempotency_key", "timestamp", "provider", "model", "agent", "project", "session", "channel", "input", "output", "cache_read", "cache_write", "reasoning", "cost_usd")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_FIELD_NUMBER: _ClassVar[int]
    REASONING_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    timestamp: str
    provider: str
    model: str
    agent: str
    project: str
    session: str
    channel: str
    input: int
    output: int
    cache_read: int
    cache_write: int
    reasoning: int
    cost_usd: float
    def __init__(self, idempotency_key: _Optional[str] = ..., timestamp: _Optional[str] = ..., provider: _Optional[str] = ..., model: _Optional[str] = ..., agent: _Optional[str] = ..., project: _Optional[str] = ..., session: _Optional[str] = ..., channel: _Optional[str] = ..., input: _Optional[int] = ..., output: _Optional[int] = ..., cache_read: _Optional[int] = ..., cache_write: _Optional[int] = ..., reasoning: _Optional[int] = ..., cost_usd: _Optional[float] = ...) -> None: ...

class RefreshResult(_message.Message):
    __slots__ = ("source", "ok", "error", "items", "requests", "seconds", "endpoints", "files", "bytes_read", "events_seen", "snapshots", "malformed_lines", "problems")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    BYTES_READ_FIELD_NUMBER: _ClassVar[int]
    EVENTS_SEEN_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    MALFORMED_LINES_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    source: str
    ok: bool
    error: str
    items: int
    requests: int
    seconds: float
    endpoints: _containers.RepeatedCompositeFieldContainer[EndpointStatus]
    files: int
    bytes_read: int
    events_seen: int
    snapshots: int
    malformed_lines: int
    problems: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, source: _Optional[str] = ..., ok: _Optional[bool] = ..., error: _Optional[str] = ..., items: _Optional[int] = ..., requests: _Optional[int] = ..., seconds: _Optional[float] = ..., endpoints: _Optional[_Iterable[_Union[EndpointStatus, _Mapping]]] = ..., files: _Optional[int] = ..., bytes_read: _Optional[int] = ..., events_seen: _Optional[int] = ..., snapshots: _Optional[int] = ..., malformed_lines: _Optional[int] = ..., problems: _Optional[_Iterable[str]] = ...) -> None: ...

class DashboardSummary(_message.Message):
    __slots__ = ("timestamp", "age_seconds", "stale", "currency", "providers", "total_balance_usd", "total_daily_cost_usd", "total_runway_days", "periods", "by_provider", "by_model", "by_agent", "by_project", "by_source", "budgets", "alerts", "sources", "text")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BALANCE_USD_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DAILY_COST_USD_FIELD_NUMBER: _ClassVar[int]
    TOTAL_RUNWAY_DAYS_FIELD_NUMBER: _ClassVar[int]
    PERIODS_FIELD_NUMBER: _ClassVar[int]
    BY_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    BY_MODEL_FIELD_NUMBER: _ClassVar[int]
    BY_AGENT_FIELD_NUMBER: _ClassVar[int]
    BY_PROJECT_FIELD_NUMBER: _ClassVar[int]
    BY_SOURCE_FIELD_NUMBER: _ClassVar[int]
    BUDGETS_FIELD_NUMBER: _ClassVar[int]
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    timestamp: str
    age_seconds: float
    stale: bool
    currency: str
    providers: _containers.RepeatedCompositeFieldContainer[ProviderStatus]
    total_balance_usd: float
    total_daily_cost_usd: float
    total_runway_days: float
    periods: Periods
    by_provider: _containers.RepeatedCompositeFieldContainer[UsageRow]
    by_model: _containers.RepeatedCompositeFieldContainer[UsageRow]
    by_agent: _containers.RepeatedCompositeFieldContainer[UsageRow]
    by_project: _containers.RepeatedCompositeFieldContainer[UsageRow]
    by_source: _containers.RepeatedCompositeFieldContainer[UsageRow]
    budgets: _containers.RepeatedCompositeFieldContainer[BudgetStatus]
    alerts: _containers.RepeatedCompositeFieldContainer[UsageAlert]
    sources: _containers.RepeatedCompositeFieldContainer[SourceStatus]
    text: str
    def __init__(self, timestamp: _Optional[str] = ..., age_seconds: _Optional[float] = ..., stale: _Optional[bool] = ..., currency: _Optional[str] = ..., providers: _Optional[_Iterable[_Union[ProviderStatus, _Mapping]]] = ..., total_balance_usd: _Optional[float] = ..., total_daily_cost_usd: _Optional[float] = ..., total_runway_days: _Optional[float] = ..., periods: _Optional[_Union[Periods, _Mapping]] = ..., by_provider: _Optional[_Iterable[_Union[UsageRow, _Mapping]]] = ..., by_model: _Optional[_Iterable[_Union[UsageRow, _Mapping]]] = ..., by_agent: _Optional[_Iterable[_Union[UsageRow, _Mapping]]] = ..., by_project: _Optional[_Iterable[_Union[UsageRow, _Mapping]]] = ..., by_source: _Optional[_Iterable[_Union[UsageRow, _Mapping]]] = ..., budgets: _Optional[_Iterable[_Union[BudgetStatus, _Mapping]]] = ..., alerts: _Optional[_Iterable[_Union[UsageAlert, _Mapping]]] = ..., sources: _Optional[_Iterable[_Union[SourceStatus, _Mapping]]] = ..., text: _Optional[str] = ...) -> None: ...
