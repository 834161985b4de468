from tokendash.api._pb import health_pb2 as _health_pb2
from tokendash.api._pb import usage_pb2 as _usage_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StatusRequest(_message.Message):
    __slots__ = ("scope", "max_age_seconds", "refresh", "timeout_seconds", "format")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    REFRESH_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    scope: str
    max_age_seconds: float
    refresh: bool
    timeout_seconds: float
    format: str
    def __init__(self, scope: _Optional[str] = ..., max_age_seconds: _Optional[float] = ..., refresh: _Optional[bool] = ..., timeout_seconds: _Optional[float] = ..., format: _Optional[str] = ...) -> None: ...

class StatusResponse(_message.Message):
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
    providers: _containers.RepeatedCompositeFieldContainer[_usage_pb2.ProviderStatus]
    total_balance_usd: float
    total_daily_cost_usd: float
    total_runway_days: float
    periods: _usage_pb2.Periods
    by_provider: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageRow]
    by_model: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageRow]
    by_agent: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageRow]
    by_project: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageRow]
    by_source: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageRow]
    budgets: _containers.RepeatedCompositeFieldContainer[_usage_pb2.BudgetStatus]
    alerts: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageAlert]
    sources: _containers.RepeatedCompositeFieldContainer[_usage_pb2.SourceStatus]
    text: str
    def __init__(self, timestamp: _Optional[str] = ..., age_seconds: _Optional[float] = ..., stale: _Optional[bool] = ..., currency: _Optional[str] = ..., providers: _Optional[_Iterable[_Union[_usage_pb2.ProviderStatus, _Mapping]]] = ..., total_balance_usd: _Optional[float] = ..., total_daily_cost_usd: _Optional[float] = ..., total_runway_days: _Optional[float] = ..., periods: _Optional[_Union[_usage_pb2.Periods, _Mapping]] = ..., by_provider: _Optional[_Iterable[_Union[_usage_pb2.UsageRow, _Mapping]]] = ..., by_model: _Optional[_Iterable[_Union[_usage_pb2.UsageRow, _Mapping]]] = ..., by_agent: _Optional[_Iterable[_Union[_usage_pb2.UsageRow, _Mapping]]] = ..., by_project: _Optional[_Iterable[_Union[_usage_pb2.UsageRow, _Mapping]]] = ..., by_source: _Optional[_Iterable[_Union[_usage_pb2.UsageRow, _Mapping]]] = ..., budgets: _Optional[_Iterable[_Union[_usage_pb2.BudgetStatus, _Mapping]]] = ..., alerts: _Optional[_Iterable[_Union[_usage_pb2.UsageAlert, _Mapping]]] = ..., sources: _Optional[_Iterable[_Union[_usage_pb2.SourceStatus, _Mapping]]] = ..., text: _Optional[str] = ...) -> None: ...

class CachedRequest(_message.Message):
    __slots__ = ("format",)
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    format: str
    def __init__(self, format: _Optional[str] = ...) -> None: ...

class CachedResponse(_message.Message):
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
    providers: _containers.RepeatedCompositeFieldContainer[_usage_pb2.ProviderStatus]
    total_balance_usd: float
    total_daily_cost_usd: float
    total_runway_days: float
    periods: _usage_pb2.Periods
    by_provider: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageRow]
    by_model: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageRow]
    by_agent: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageRow]
    by_project: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageRow]
    by_source: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageRow]
    budgets: _containers.RepeatedCompositeFieldContainer[_usage_pb2.BudgetStatus]
    alerts: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageAlert]
    sources: _containers.RepeatedCompositeFieldContainer[_usage_pb2.SourceStatus]
    text: str
    def __init__(self, timestamp: _Optional[str] = ..., age_seconds: _Optional[float] = ..., stale: _Optional[bool] = ..., currency: _Optional[str] = ..., providers: _Optional[_Iterable[_Union[_usage_pb2.ProviderStatus, _Mapping]]] = ..., total_balance_usd: _Optional[float] = ..., total_daily_cost_usd: _Optional[float] = ..., total_runway_days: _Optional[float] = ..., periods: _Optional[_Union[_usage_pb2.Periods, _Mapping]] = ..., by_provider: _Optional[_Iterable[_Union[_usage_pb2.UsageRow, _Mapping]]] = ..., by_model: _Optional[_Iterable[_Union[_usage_pb2.UsageRow, _Mapping]]] = ..., by_agent: _Optional[_Iterable[_Union[_usage_pb2.UsageRow, _Mapping]]] = ..., by_project: _Optional[_Iterable[_Union[_usage_pb2.UsageRow, _Mapping]]] = ..., by_source: _Optional[_Iterable[_Union[_usage_pb2.UsageRow, _Mapping]]] = ..., budgets: _Optional[_Iterable[_Union[_usage_pb2.BudgetStatus, _Mapping]]] = ..., alerts: _Optional[_Iterable[_Union[_usage_pb2.UsageAlert, _Mapping]]] = ..., sources: _Optional[_Iterable[_Union[_usage_pb2.SourceStatus, _Mapping]]] = ..., text: _Optional[str] = ...) -> None: ...

class ProvidersRequest(_message.Message):
    __slots__ = ("format",)
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    format: str
    def __init__(self, format: _Optional[str] = ...) -> None: ...

class ProvidersResponse(_message.Message):
    __slots__ = ("providers", "text")
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    providers: _containers.RepeatedCompositeFieldContainer[_usage_pb2.ProviderInfo]
    text: str
    def __init__(self, providers: _Optional[_Iterable[_Union[_usage_pb2.ProviderInfo, _Mapping]]] = ..., text: _Optional[str] = ...) -> None: ...

class BurnRequest(_message.Message):
    __slots__ = ("format",)
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    format: str
    def __init__(self, format: _Optional[str] = ...) -> None: ...

class BurnResponse(_message.Message):
    __slots__ = ("total", "providers", "text")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    total: _usage_pb2.BurnRate
    providers: _containers.RepeatedCompositeFieldContainer[_usage_pb2.BurnRate]
    text: str
    def __init__(self, total: _Optional[_Union[_usage_pb2.BurnRate, _Mapping]] = ..., providers: _Optional[_Iterable[_Union[_usage_pb2.BurnRate, _Mapping]]] = ..., text: _Optional[str] = ...) -> None: ...

class UsageFilters(_message.Message):
    __slots__ = ("provider", "model", "source", "agent", "project", "host", "session")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    provider: _containers.RepeatedScalarFieldContainer[str]
    model: _containers.RepeatedScalarFieldContainer[str]
    source: _containers.RepeatedScalarFieldContainer[str]
    agent: _containers.RepeatedScalarFieldContainer[str]
    project: _containers.RepeatedScalarFieldContainer[str]
    host: _containers.RepeatedScalarFieldContainer[str]
    session: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, provider: _Optional[_Iterable[str]] = ..., model: _Optional[_Iterable[str]] = ..., source: _Optional[_Iterable[str]] = ..., agent: _Optional[_Iterable[str]] = ..., project: _Optional[_Iterable[str]] = ..., host: _Optional[_Iterable[str]] = ..., session: _Optional[_Iterable[str]] = ...) -> None: ...

class UsageRequest(_message.Message):
    __slots__ = ("scope", "since", "until", "timezone", "group_by", "filters", "limit")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    scope: str
    since: str
    until: str
    timezone: str
    group_by: _containers.RepeatedScalarFieldContainer[str]
    filters: UsageFilters
    limit: int
    def __init__(self, scope: _Optional[str] = ..., since: _Optional[str] = ..., until: _Optional[str] = ..., timezone: _Optional[str] = ..., group_by: _Optional[_Iterable[str]] = ..., filters: _Optional[_Union[UsageFilters, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class UsageResponse(_message.Message):
    __slots__ = ("rows", "totals")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageRow]
    totals: _usage_pb2.Totals
    def __init__(self, rows: _Optional[_Iterable[_Union[_usage_pb2.UsageRow, _Mapping]]] = ..., totals: _Optional[_Union[_usage_pb2.Totals, _Mapping]] = ...) -> None: ...

class BudgetsRequest(_message.Message):
    __slots__ = ("format",)
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    format: str
    def __init__(self, format: _Optional[str] = ...) -> None: ...

class BudgetsResponse(_message.Message):
    __slots__ = ("budgets", "text")
    BUDGETS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    budgets: _containers.RepeatedCompositeFieldContainer[_usage_pb2.BudgetStatus]
    text: str
    def __init__(self, budgets: _Optional[_Iterable[_Union[_usage_pb2.BudgetStatus, _Mapping]]] = ..., text: _Optional[str] = ...) -> None: ...

class BudgetCheckRequest(_message.Message):
    __slots__ = ("agent_id", "provider", "model", "unchecked_runs", "unchecked_since")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    UNCHECKED_RUNS_FIELD_NUMBER: _ClassVar[int]
    UNCHECKED_SINCE_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    provider: str
    model: str
    unchecked_runs: int
    unchecked_since: str
    def __init__(self, agent_id: _Optional[str] = ..., provider: _Optional[str] = ..., model: _Optional[str] = ..., unchecked_runs: _Optional[int] = ..., unchecked_since: _Optional[str] = ...) -> None: ...

class BudgetCheckResponse(_message.Message):
    __slots__ = ("allow", "state", "reason", "budget_ids")
    ALLOW_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    BUDGET_IDS_FIELD_NUMBER: _ClassVar[int]
    allow: bool
    state: str
    reason: str
    budget_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, allow: _Optional[bool] = ..., state: _Optional[str] = ..., reason: _Optional[str] = ..., budget_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AlertsRequest(_message.Message):
    __slots__ = ("state", "limit", "format")
    STATE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    state: str
    limit: int
    format: str
    def __init__(self, state: _Optional[str] = ..., limit: _Optional[int] = ..., format: _Optional[str] = ...) -> None: ...

class AlertsResponse(_message.Message):
    __slots__ = ("alerts", "text")
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageAlert]
    text: str
    def __init__(self, alerts: _Optional[_Iterable[_Union[_usage_pb2.UsageAlert, _Mapping]]] = ..., text: _Optional[str] = ...) -> None: ...

class HealthRequest(_message.Message):
    __slots__ = ("format",)
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    format: str
    def __init__(self, format: _Optional[str] = ...) -> None: ...

class HealthResponse(_message.Message):
    __slots__ = ("timestamp", "status", "ram", "swap", "cpu", "disks", "temperatures", "uptime_seconds", "boot_time", "sidecar", "services", "recommendations", "alerts", "error", "text")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RAM_FIELD_NUMBER: _ClassVar[int]
    SWAP_FIELD_NUMBER: _ClassVar[int]
    CPU_FIELD_NUMBER: _ClassVar[int]
    DISKS_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURES_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    BOOT_TIME_FIELD_NUMBER: _ClassVar[int]
    SIDECAR_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATIONS_FIELD_NUMBER: _ClassVar[int]
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    timestamp: str
    status: str
    ram: _health_pb2.MemoryStats
    swap: _health_pb2.SwapStats
    cpu: _health_pb2.CpuStats
    disks: _containers.RepeatedCompositeFieldContainer[_health_pb2.DiskStats]
    temperatures: _containers.RepeatedCompositeFieldContainer[_health_pb2.Temperature]
    uptime_seconds: float
    boot_time: str
    sidecar: _health_pb2.ProcessStats
    services: _containers.RepeatedCompositeFieldContainer[_health_pb2.ServiceProbe]
    recommendations: _containers.RepeatedCompositeFieldContainer[_health_pb2.Recommendation]
    alerts: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageAlert]
    error: str
    text: str
    def __init__(self, timestamp: _Optional[str] = ..., status: _Optional[str] = ..., ram: _Optional[_Union[_health_pb2.MemoryStats, _Mapping]] = ..., swap: _Optional[_Union[_health_pb2.SwapStats, _Mapping]] = ..., cpu: _Optional[_Union[_health_pb2.CpuStats, _Mapping]] = ..., disks: _Optional[_Iterable[_Union[_health_pb2.DiskStats, _Mapping]]] = ..., temperatures: _Optional[_Iterable[_Union[_health_pb2.Temperature, _Mapping]]] = ..., uptime_seconds: _Optional[float] = ..., boot_time: _Optional[str] = ..., sidecar: _Optional[_Union[_health_pb2.ProcessStats, _Mapping]] = ..., services: _Optional[_Iterable[_Union[_health_pb2.ServiceProbe, _Mapping]]] = ..., recommendations: _Optional[_Iterable[_Union[_health_pb2.Recommendation, _Mapping]]] = ..., alerts: _Optional[_Iterable[_Union[_usage_pb2.UsageAlert, _Mapping]]] = ..., error: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class RecordRequest(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageRecord]
    def __init__(self, events: _Optional[_Iterable[_Union[_usage_pb2.UsageRecord, _Mapping]]] = ...) -> None: ...

class RecordResponse(_message.Message):
    __slots__ = ("accepted", "duplicates")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    duplicates: int
    def __init__(self, accepted: _Optional[int] = ..., duplicates: _Optional[int] = ...) -> None: ...

class RefreshRequest(_message.Message):
    __slots__ = ("sources", "timeout_seconds", "wait_for_dashboard")
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    WAIT_FOR_DASHBOARD_FIELD_NUMBER: _ClassVar[int]
    sources: _containers.RepeatedScalarFieldContainer[str]
    timeout_seconds: float
    wait_for_dashboard: bool
    def __init__(self, sources: _Optional[_Iterable[str]] = ..., timeout_seconds: _Optional[float] = ..., wait_for_dashboard: _Optional[bool] = ...) -> None: ...

class RefreshResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[_usage_pb2.RefreshResult]
    def __init__(self, results: _Optional[_Iterable[_Union[_usage_pb2.RefreshResult, _Mapping]]] = ...) -> None: ...
