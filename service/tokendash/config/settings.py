"""One settings model (SPEC §3): defaults → ``$TOKENDASH_HOME/config.toml`` → ``TOKENDASH_*`` environment
→ CLI flags (passed as init arguments). Nothing else in tokendash reads ``os.environ`` for its settings.

``config.toml`` keys are camelCase as in the SPEC (``pollIntervalMinutes``); environment variables are
``TOKENDASH_`` + the snake_case name (``TOKENDASH_POLL_INTERVAL_MINUTES``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tokendash.config.quick import default_home, read_config_toml


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class AlertThreshold(_Camel):
    balance_usd: float | None = None
    daily_spend_usd: float | None = None


class BudgetScope(_Camel):
    provider: str | None = None
    agent: str | None = None
    project: str | None = None


class Budget(_Camel):
    id: str
    period: Literal["daily", "weekly", "monthly"]
    limit: float = Field(gt=0)
    scope: BudgetScope = BudgetScope()
    thresholds: list[float] = [75, 90, 100]


class Webhook(_Camel):
    url: str
    format: Literal["json", "telegram", "discord", "slack"] = "json"
    chat_id: str | None = None


class Runaway(_Camel):
    """The ``runaway`` alert rule (SPEC §6, ``runaway = {…}`` in config.toml): one agent or one session
    spending far above its own recent rate. A scope fires when, over the last ``window_minutes``, it
    made at least ``min_calls`` calls and either its cost is at least ``min_cost_usd`` and ``factor``
    times its usual busy hour's cost, or its call count is ``factor`` times its usual busy hour's calls.
    "Usual busy hour" is the 95th percentile of the scope's active clock hours (hours with a call) over
    the ``baseline_days`` before the window, scaled to the window's length; a scope needs at least
    ``min_history_hours`` such hours (a session without them is judged against its agent's). An open
    alert holds until the scope falls under half of those thresholds. ``enabled = false`` turns it off."""

    enabled: bool = True
    window_minutes: float = Field(default=60, ge=5, le=1440)
    factor: float = Field(default=4, gt=1)
    min_calls: int = Field(default=60, ge=1)
    min_cost_usd: float = Field(default=2.0, ge=0)
    baseline_days: int = Field(default=7, ge=1, le=60)
    min_history_hours: int = Field(default=3, ge=1)
    baseline_refresh_seconds: float = Field(default=300, ge=0)  # the cached baseline is re-read this often


class Delivery(_Camel):
    """How the outbox is sent to the webhooks (``[delivery]``): a failed send waits ``backoff_seconds``
    × 2^(attempt−1), at most ``backoff_cap_seconds``, with jitter; a 429's ``Retry-After`` is waited for
    (at most ``max_retry_after_seconds``); a delivery still not accepted after ``give_up_after_hours``
    is marked failed."""

    timeout_seconds: float = Field(default=10, gt=0, le=120)
    backoff_seconds: float = Field(default=2, gt=0)
    backoff_cap_seconds: float = Field(default=300, gt=0)
    max_retry_after_seconds: float = Field(default=3600, gt=0)
    give_up_after_hours: float = Field(default=24, gt=0)
    poll_seconds: float = Field(default=1, gt=0, le=60)  # how often the outbox is looked at when idle


class Enforcement(_Camel):
    mode: Literal["off", "warn", "block"] = "warn"
    fail_closed: bool = False


class SourceOptions(_Camel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")
    enabled: bool = True
    billing: Literal["metered", "subscription"] = "metered"


class PriceOverride(_Camel):
    """USD per million tokens, OpenClaw's shape."""

    provider: str = "*"
    model: str
    input: float | None = None
    output: float | None = None
    cache_read: float | None = None
    cache_write: float | None = None


class SidecarOptions(_Camel):
    python: str | None = None
    http_port: int | None = None
    grpc_port: int | None = None
    database_url: str | None = None


class HealthThresholds(_Camel):
    """Host limits for the status light (SPEC §7, ``[healthThresholds]``): a reading strictly above a
    limit trips it; ``None`` switches that check off. Percentages of RAM, swap and each disk; for a
    temperature sensor, ``None`` means the sensor's own high and critical marks where it reports them."""

    ram_caution_percent: float | None = 75
    ram_critical_percent: float | None = 90
    swap_caution_percent: float | None = 80
    swap_critical_percent: float | None = None
    disk_caution_percent: float | None = None
    disk_critical_percent: float | None = 90
    temperature_caution_celsius: float | None = None
    temperature_critical_celsius: float | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TOKENDASH_",
        extra="ignore",
        populate_by_name=True,
        alias_generator=to_camel,
    )

    home: Path = Field(default_factory=default_home)
    database_url: str | None = None
    http_addr: str = "127.0.0.1:18790"
    grpc_addr: str = "127.0.0.1:18791"
    url: str | None = None
    token: str | None = None
    host_id: str | None = None
    timezone: str | None = None
    currency: str = "USD"
    fx: dict[str, float] = Field(default_factory=dict)

    poll_interval_minutes: float = Field(default=15, gt=0)
    local_poll_seconds: float = Field(default=5, gt=0)
    history_retention_days: int = Field(default=90, ge=1)
    # Events stored per transaction during ingest: bounds memory; each batch commits with its cursors.
    ingest_batch_events: int = Field(default=10_000, ge=1)
    alert_thresholds: dict[str, AlertThreshold] = Field(default_factory=dict)
    enabled_providers: list[str] | None = None
    budgets: list[Budget] = Field(default_factory=list)
    webhooks: list[Webhook] = Field(default_factory=list)
    runaway: Runaway = Runaway()
    delivery: Delivery = Delivery()
    # A summary digest (the text of ``tokendash status``) to every webhook this often; 0: off.
    digest_interval_hours: float = Field(default=0, ge=0)
    enforcement: Enforcement = Enforcement()
    sources: dict[str, SourceOptions] = Field(default_factory=dict)
    prices: list[PriceOverride] = Field(default_factory=list)
    sidecar: SidecarOptions = SidecarOptions()

    # Host health (SPEC §3, §7): service probes and the status light.
    ollama_url: str = "http://127.0.0.1:11434"
    chromadb_url: str | None = None  # unset: the ChromaDB probe is off
    chromadb_token: str | None = None
    chromadb_tenant: str = "default_tenant"
    chromadb_database: str = "default_database"
    gateway_url: str | None = None  # unset: gateway.port from the OpenClaw config, else 18789
    health_probe_timeout_seconds: float = Field(default=1.0, gt=0, le=10)
    health_thresholds: HealthThresholds = HealthThresholds()

    # Provider APIs (SPEC §3): API origins (for proxies and local fake servers), Moonshot's currency,
    # and the HTTP policy of every provider source (timeouts, retries, pagination bounds).
    openai_base_url: str = "https://api.openai.com/v1"
    anthropic_base_url: str = "https://api.anthropic.com"
    openrouter_base_url: str = "https://openrouter.ai/api/v1"
    moonshot_base_url: str = "https://api.moonshot.ai/v1"
    deepseek_base_url: str = "https://api.deepseek.com"
    moonshot_currency: str | None = None
    provider_connect_timeout_seconds: float = Field(default=5, gt=0)
    provider_read_timeout_seconds: float = Field(default=20, gt=0)
    provider_poll_timeout_seconds: float = Field(default=90, gt=0)  # one provider's whole poll
    provider_max_retries: int = Field(default=3, ge=0)
    provider_backoff_seconds: float = Field(default=0.5, ge=0)
    provider_backoff_cap_seconds: float = Field(default=8, ge=0)
    provider_max_retry_after_seconds: float = Field(default=60, ge=0)
    provider_max_pages: int = Field(default=40, ge=1)
    provider_lookback_days: int = Field(default=31, ge=7, le=180)

    # Where the agents keep their logs (their own variables, not TOKENDASH_*).
    claude_config_dir: str | None = None
    codex_home: str | None = None
    openclaw_state_dir: str | None = None

    @field_validator("fx", mode="before")
    @classmethod
    def _parse_fx(cls, v: Any) -> Any:
        # "CNY=0.14,EUR=1.08": 1 unit = that many USD.
        if isinstance(v, str):
            out: dict[str, float] = {}
            for part in v.split(","):
                if not part.strip():
                    continue
                cur, _, rate = part.partition("=")
                out[cur.strip().upper()] = float(rate)
            return out
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _EnvSource(settings_cls), _TomlSource(settings_cls))

    # Derived values --------------------------------------------------------------------------

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'tokendash.db'}"

    @property
    def effective_url(self) -> str:
        return self.url or f"http://{self.http_addr}"

    def source_options(self, source_id: str) -> SourceOptions:
        return self.sources.get(source_id) or SourceOptions()

    def masked(self) -> dict[str, Any]:
        """Effective values for ``doctor``: secrets masked."""
        d = self.model_dump(mode="json", by_alias=True)
        if d.get("token"):
            d["token"] = "****"
        if d.get("chromadbToken"):
            d["chromadbToken"] = "****"
        from tokendash.outbox import webhook_hint

        for w in d.get("webhooks", []):  # a Telegram, Discord or Slack webhook's path is its secret
            w["url"] = webhook_hint(w["url"])
        d["databaseUrl"] = _mask_url(self.effective_database_url)
        for key in ("url", "ollamaUrl", "chromadbUrl", "gatewayUrl"):  # a probe URL may carry credentials
            if d.get(key):
                d[key] = _mask_url(d[key])
        return d


def _mask_url(url: str) -> str:
    # Telegram bot tokens and database passwords live in URLs.
    import re

    url = re.sub(r"(bot)[^/]+", r"\1****", url)
    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1****@", url)


# The agents' own variables, read as they are (not TOKENDASH_*).
AGENT_VARS = {"CLAUDE_CONFIG_DIR": "claude_config_dir", "CODEX_HOME": "codex_home", "OPENCLAW_STATE_DIR": "openclaw_state_dir"}


class _EnvSource(PydanticBaseSettingsSource):
    """``TOKENDASH_<FIELD>`` and the agents' directory variables, nothing else: a plain ``HOME`` or
    ``TOKEN`` in the environment must never be taken for a setting. Structured values are JSON."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        import json

        out: dict[str, Any] = {}
        for name in self.settings_cls.model_fields:
            raw = os.environ.get(f"TOKENDASH_{name.upper()}")
            if raw is None or raw == "":
                continue
            if raw[:1] in "[{":
                try:
                    out[name] = json.loads(raw)
                    continue
                except ValueError as e:
                    from tokendash.errors import ConfigError

                    raise ConfigError(f"TOKENDASH_{name.upper()}: not valid JSON: {e}") from e
            if "list[" in str(self.settings_cls.model_fields[name].annotation):
                out[name] = [x.strip() for x in raw.split(",") if x.strip()]  # "openai,anthropic"
                continue
            out[name] = raw
        for var, name in AGENT_VARS.items():
            if os.environ.get(var):
                out[name] = os.environ[var]
        return out


class _TomlSource(PydanticBaseSettingsSource):
    """``$TOKENDASH_HOME/config.toml`` (lowest priority above the defaults)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return read_config_toml()


def load_settings(**overrides: Any) -> Settings:
    """Build settings; ``overrides`` are CLI flags (None values are ignored)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
