from tokendash.api._pb import usage_pb2 as _usage_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MemoryStats(_message.Message):
    __slots__ = ("percent", "used_bytes", "total_bytes", "available_bytes")
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_BYTES_FIELD_NUMBER: _ClassVar[int]
    percent: float
    used_bytes: int
    total_bytes: int
    available_bytes: int
    def __init__(self, percent: _Optional[float] = ..., used_bytes: _Optional[int] = ..., total_bytes: _Optional[int] = ..., available_bytes: _Optional[int] = ...) -> None: ...

class SwapStats(_message.Message):
    __slots__ = ("percent", "used_bytes", "total_bytes")
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    percent: float
    used_bytes: int
    total_bytes: int
    def __init__(self, percent: _Optional[float] = ..., used_bytes: _Optional[int] = ..., total_bytes: _Optional[int] = ...) -> None: ...

class CpuStats(_message.Message):
    __slots__ = ("load1", "load5", "load15", "percent", "cores", "physical_cores")
    LOAD1_FIELD_NUMBER: _ClassVar[int]
    LOAD5_FIELD_NUMBER: _ClassVar[int]
    LOAD15_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    CORES_FIELD_NUMBER: _ClassVar[int]
    PHYSICAL_CORES_FIELD_NUMBER: _ClassVar[int]
    load1: float
    load5: float
    load15: float
    percent: float
    cores: int
    physical_cores: int
    def __init__(self, load1: _Optional[float] = ..., load5: _Optional[float] = ..., load15: _Optional[float] = ..., percent: _Optional[float] = ..., cores: _Optional[int] = ..., physical_cores: _Optional[int] = ...) -> None: ...

class DiskStats(_message.Message):
    __slots__ = ("mountpoint", "roles", "percent", "used_bytes", "total_bytes", "free_bytes")
    MOUNTPOINT_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    FREE_BYTES_FIELD_NUMBER: _ClassVar[int]
    mountpoint: str
    roles: _containers.RepeatedScalarFieldContainer[str]
    percent: float
    used_bytes: int
    total_bytes: int
    free_bytes: int
    def __init__(self, mountpoint: _Optional[str] = ..., roles: _Optional[_Iterable[str]] = ..., percent: _Optional[float] = ..., used_bytes: _Optional[int] = ..., total_bytes: _Optional[int] = ..., free_bytes: _Optional[int] = ...) -> None: ...

class Temperature(_message.Message):
    __slots__ = ("sensor", "label", "celsius", "high", "critical")
    SENSOR_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    CELSIUS_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    CRITICAL_FIELD_NUMBER: _ClassVar[int]
    sensor: str
    label: str
    celsius: float
    high: float
    critical: float
    def __init__(self, sensor: _Optional[str] = ..., label: _Optional[str] = ..., celsius: _Optional[float] = ..., high: _Optional[float] = ..., critical: _Optional[float] = ...) -> None: ...

class ProcessStats(_message.Message):
    __slots__ = ("pid", "rss_bytes", "vms_bytes", "threads", "uptime_seconds")
    PID_FIELD_NUMBER: _ClassVar[int]
    RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    VMS_BYTES_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    pid: int
    rss_bytes: int
    vms_bytes: int
    threads: int
    uptime_seconds: float
    def __init__(self, pid: _Optional[int] = ..., rss_bytes: _Optional[int] = ..., vms_bytes: _Optional[int] = ..., threads: _Optional[int] = ..., uptime_seconds: _Optional[float] = ...) -> None: ...

class OllamaModel(_message.Message):
    __slots__ = ("name", "size_bytes", "family", "parameter_size", "quantization_level", "size_vram_bytes", "expires_at")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_SIZE_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_LEVEL_FIELD_NUMBER: _ClassVar[int]
    SIZE_VRAM_BYTES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    name: str
    size_bytes: int
    family: str
    parameter_size: str
    quantization_level: str
    size_vram_bytes: int
    expires_at: str
    def __init__(self, name: _Optional[str] = ..., size_bytes: _Optional[int] = ..., family: _Optional[str] = ..., parameter_size: _Optional[str] = ..., quantization_level: _Optional[str] = ..., size_vram_bytes: _Optional[int] = ..., expires_at: _Optional[str] = ...) -> None: ...

class OllamaInfo(_message.Message):
    __slots__ = ("model_count", "total_size_bytes", "models", "loaded_count", "loaded_size_bytes", "loaded")
    MODEL_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    LOADED_COUNT_FIELD_NUMBER: _ClassVar[int]
    LOADED_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    LOADED_FIELD_NUMBER: _ClassVar[int]
    model_count: int
    total_size_bytes: int
    models: _containers.RepeatedCompositeFieldContainer[OllamaModel]
    loaded_count: int
    loaded_size_bytes: int
    loaded: _containers.RepeatedCompositeFieldContainer[OllamaModel]
    def __init__(self, model_count: _Optional[int] = ..., total_size_bytes: _Optional[int] = ..., models: _Optional[_Iterable[_Union[OllamaModel, _Mapping]]] = ..., loaded_count: _Optional[int] = ..., loaded_size_bytes: _Optional[int] = ..., loaded: _Optional[_Iterable[_Union[OllamaModel, _Mapping]]] = ...) -> None: ...

class ChromaInfo(_message.Message):
    __slots__ = ("heartbeat_ns", "collection_count")
    HEARTBEAT_NS_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    heartbeat_ns: int
    collection_count: int
    def __init__(self, heartbeat_ns: _Optional[int] = ..., collection_count: _Optional[int] = ...) -> None: ...

class GatewayInfo(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: str
    def __init__(self, status: _Optional[str] = ...) -> None: ...

class ServiceProbe(_message.Message):
    __slots__ = ("name", "url", "configured", "ok", "error", "warning", "latency_ms", "ollama", "chromadb", "gateway")
    NAME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    CONFIGURED_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    OLLAMA_FIELD_NUMBER: _ClassVar[int]
    CHROMADB_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    name: str
    url: str
    configured: bool
    ok: bool
    error: str
    warning: str
    latency_ms: float
    ollama: OllamaInfo
    chromadb: ChromaInfo
    gateway: GatewayInfo
    def __init__(self, name: _Optional[str] = ..., url: _Optional[str] = ..., configured: _Optional[bool] = ..., ok: _Optional[bool] = ..., error: _Optional[str] = ..., warning: _Optional[str] = ..., latency_ms: _Optional[float] = ..., ollama: _Optional[_Union[OllamaInfo, _Mapping]] = ..., chromadb: _Optional[_Union[ChromaInfo, _Mapping]] = ..., gateway: _Optional[_Union[GatewayInfo, _Mapping]] = ...) -> None: ...

class Recommendation(_message.Message):
    __slots__ = ("severity", "message")
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    severity: str
    message: str
    def __init__(self, severity: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class SystemHealth(_message.Message):
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
    ram: MemoryStats
    swap: SwapStats
    cpu: CpuStats
    disks: _containers.RepeatedCompositeFieldContainer[DiskStats]
    temperatures: _containers.RepeatedCompositeFieldContainer[Temperature]
    uptime_seconds: float
    boot_time: str
    sidecar: ProcessStats
    services: _containers.RepeatedCompositeFieldContainer[ServiceProbe]
    recommendations: _containers.RepeatedCompositeFieldContainer[Recommendation]
    alerts: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageAlert]
    error: str
    text: str
    def __init__(self, timestamp: _Optional[str] = ..., status: _Optional[str] = ..., ram: _Optional[_Union[MemoryStats, _Mapping]] = ..., swap: _Optional[_Union[SwapStats, _Mapping]] = ..., cpu: _Optional[_Union[CpuStats, _Mapping]] = ..., disks: _Optional[_Iterable[_Union[DiskStats, _Mapping]]] = ..., temperatures: _Optional[_Iterable[_Union[Temperature, _Mapping]]] = ..., uptime_seconds: _Optional[float] = ..., boot_time: _Optional[str] = ..., sidecar: _Optional[_Union[ProcessStats, _Mapping]] = ..., services: _Optional[_Iterable[_Union[ServiceProbe, _Mapping]]] = ..., recommendations: _Optional[_Iterable[_Union[Recommendation, _Mapping]]] = ..., alerts: _Optional[_Iterable[_Union[_usage_pb2.UsageAlert, _Mapping]]] = ..., error: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class ServerStatusReport(_message.Message):
    __slots__ = ("timestamp", "status", "health", "period", "month", "by_provider", "by_model", "budgets", "budget_remaining", "currency", "recommendations", "timezone", "usd_per_unit", "budget_note", "subscription_cost_usd", "recent_days", "recent_weeks")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    BY_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    BY_MODEL_FIELD_NUMBER: _ClassVar[int]
    BUDGETS_FIELD_NUMBER: _ClassVar[int]
    BUDGET_REMAINING_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATIONS_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    USD_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    BUDGET_NOTE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_COST_USD_FIELD_NUMBER: _ClassVar[int]
    RECENT_DAYS_FIELD_NUMBER: _ClassVar[int]
    RECENT_WEEKS_FIELD_NUMBER: _ClassVar[int]
    timestamp: str
    status: str
    health: SystemHealth
    period: str
    month: _usage_pb2.Totals
    by_provider: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageRow]
    by_model: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageRow]
    budgets: _containers.RepeatedCompositeFieldContainer[_usage_pb2.BudgetStatus]
    budget_remaining: float
    currency: str
    recommendations: _containers.RepeatedCompositeFieldContainer[Recommendation]
    timezone: str
    usd_per_unit: float
    budget_note: str
    subscription_cost_usd: float
    recent_days: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageRow]
    recent_weeks: _containers.RepeatedCompositeFieldContainer[_usage_pb2.UsageRow]
    def __init__(self, timestamp: _Optional[str] = ..., status: _Optional[str] = ..., health: _Optional[_Union[SystemHealth, _Mapping]] = ..., period: _Optional[str] = ..., month: _Optional[_Union[_usage_pb2.Totals, _Mapping]] = ..., by_provider: _Optional[_Iterable[_Union[_usage_pb2.UsageRow, _Mapping]]] = ..., by_model: _Optional[_Iterable[_Union[_usage_pb2.UsageRow, _Mapping]]] = ..., budgets: _Optional[_Iterable[_Union[_usage_pb2.BudgetStatus, _Mapping]]] = ..., budget_remaining: _Optional[float] = ..., currency: _Optional[str] = ..., recommendations: _Optional[_Iterable[_Union[Recommendation, _Mapping]]] = ..., timezone: _Optional[str] = ..., usd_per_unit: _Optional[float] = ..., budget_note: _Optional[str] = ..., subscription_cost_usd: _Optional[float] = ..., recent_days: _Optional[_Iterable[_Union[_usage_pb2.UsageRow, _Mapping]]] = ..., recent_weeks: _Optional[_Iterable[_Union[_usage_pb2.UsageRow, _Mapping]]] = ...) -> None: ...
