"""The ``App`` object: settings, store, prices and sources, built once and handed to every layer.
There is no other global state (tests build a fresh App each)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokendash.config.settings import Settings
    from tokendash.pricing.prices import PriceBook
    from tokendash.store.reader import Reader
    from tokendash.store.repo import Store


class App:
    """``App(settings)``, or ``App(flags=...)`` to build the settings from CLI flags on first use: a read
    command that needs only the store and the time zone then never imports the settings model."""

    # Kept between dashboard builds of one process (``tokendash.api.methods``): the ``runaway`` rule's
    # cached baseline, and the last health reading (the source of ``health`` alerts).
    runaway_detector: Any = None
    last_health: dict[str, Any] | None = None
    # Agent runs a budget gate let through unchecked (reported with the next budget.check): {count, since, last}.
    unchecked_runs: dict[str, Any] | None = None

    def __init__(self, settings: Settings | None = None, flags: dict[str, Any] | None = None) -> None:
        if settings is not None:
            self.settings = settings
        self._flags = {k: v for k, v in (flags or {}).items() if v is not None}

    @cached_property
    def settings(self) -> Settings:
        from pydantic import ValidationError

        from tokendash.config.settings import load_settings
        from tokendash.errors import ConfigError

        try:
            return load_settings(**self._flags)
        except ValidationError as e:  # config.toml or TOKENDASH_* holds a bad value
            raise ConfigError(f"invalid settings: {e}") from e

    @cached_property
    def _quick(self) -> Any:
        """The settings when they are built already, else the scalar fast path (same values)."""
        if "settings" in self.__dict__ or set(self._flags) - {"database_url"}:
            return self.settings
        from tokendash.config.quick import QuickSettings

        return QuickSettings(self._flags.get("database_url"))

    @cached_property
    def store(self) -> Store:
        from tokendash.store.db import open_store
        from tokendash.store.repo import Store

        return Store(open_store(self.settings.effective_database_url), host_id=self.settings.host_id)

    @cached_property
    def prices(self) -> PriceBook:
        from tokendash.pricing.prices import PriceBook

        overrides: dict[tuple[str, str], dict[str, Any]] = {}
        try:  # OpenClaw's own model cost table is an override too (SPEC §5 rule 5)
            from tokendash.config.openclaw import load_openclaw_config, price_overrides

            overrides.update(price_overrides(load_openclaw_config(self.settings.openclaw_state_dir)))
        except ImportError:
            pass
        except Exception:  # a broken OpenClaw config must not stop pricing; doctor reports it
            pass
        for p in self.settings.prices:
            overrides[(p.provider, p.model)] = p.model_dump(by_alias=True, exclude={"provider", "model"})
        return PriceBook(overrides)

    def reader(self) -> AbstractContextManager[Reader]:
        """A read-only connection for queries: plain sqlite3 when possible (fast start), else the engine."""
        from tokendash.store.reader import read_connection

        return read_connection(self.database_url, lambda: self.store.engine)

    def sources(self, only: list[str] | None = None) -> list[Any]:
        from tokendash.sources.registry import build_sources

        return build_sources(self.settings, only)

    @property
    def database_url(self) -> str:
        """The store's URL, without building the settings model when it is not built already."""
        return self._quick.effective_database_url

    @property
    def timezone(self) -> str:
        from tokendash.accounting.timezones import system_timezone

        return self._quick.timezone or system_timezone()

    def subscription_sources(self) -> set[str]:
        return {k for k, v in self.settings.sources.items() if v.billing == "subscription"}
