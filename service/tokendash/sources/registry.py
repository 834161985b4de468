"""Which sources exist and which are enabled, built from settings. Built-in sources are registered the
same way an outside source would be: a name and a factory taking the settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tokendash.config.settings import Settings
from tokendash.sources.base import Source

Factory = Callable[[Settings], Source]


def _claude(settings: Settings) -> Source:
    from tokendash.sources.claude_code import ClaudeCodeSource, default_config_dirs

    env = {"CLAUDE_CONFIG_DIR": settings.claude_config_dir} if settings.claude_config_dir is not None else None
    dirs = default_config_dirs(env) if env else default_config_dirs()
    return ClaudeCodeSource(dirs, batch_events=settings.ingest_batch_events)


def _codex(settings: Settings) -> Source:
    from tokendash.sources.codex import CodexSource

    return CodexSource(Path(settings.codex_home).expanduser() if settings.codex_home else None)


def _openclaw(settings: Settings) -> Source:
    from tokendash.sources.openclaw import OpenClawSource

    return OpenClawSource(Path(settings.openclaw_state_dir).expanduser() if settings.openclaw_state_dir else None)


LOCAL_SOURCES: dict[str, Factory] = {
    "claude-code": _claude,
    "codex": _codex,
    "openclaw": _openclaw,
}

# API sources (issue 5): the provider billing APIs, polled through ``tokendash.providers.poll``.
def _api_sources() -> dict[str, Factory]:
    from tokendash.providers.source import factory

    return {p: factory(p) for p in ("openai", "anthropic", "openrouter", "moonshot", "deepseek")}


API_SOURCES: dict[str, Factory] = _api_sources()


def all_factories() -> dict[str, Factory]:
    return {**LOCAL_SOURCES, **API_SOURCES}


def build_sources(settings: Settings, only: list[str] | None = None) -> list[Source]:
    """Enabled sources, in a stable order; unknown names in ``only`` are an error for the caller."""
    out: list[Source] = []
    for name, factory in all_factories().items():
        if only and name not in only:
            continue
        if not settings.source_options(name).enabled:
            continue
        try:
            out.append(factory(settings))
        except ImportError:  # a source whose module is not there yet
            continue
    return out
