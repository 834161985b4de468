"""The provider APIs as sources of the registry (SPEC §4: ``kind: "api"``), so the sidecar's scheduler
polls them every ``pollIntervalMinutes`` with its backoff, and ``tokendash ingest --source openai`` and
``token-dashboard.refresh`` reach them, all through ``providers.poll``.

Unlike a local source, a provider's poll stores its own result (buckets, balance history, poll state
live in their own tables, see ``store/providers.py``); to the ingest pipeline it yields one empty batch
whose ``problems`` carry a partial failure, and it raises ``SourceError`` when nothing was fetched, so
the source's state and the scheduler's backoff see the truth. This module imports no HTTP code until a
poll runs: building the source list stays cheap for read commands.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tokendash.sources.base import FileCursor, PollBatch, SourceError


class ProviderSource:
    kind = "api"

    def __init__(self, settings: Any, provider: str) -> None:
        self.id = provider
        self.settings = settings

    def configured(self) -> bool:
        from tokendash.providers.keys import provider_keys

        allowed = self.settings.enabled_providers
        if allowed is not None and self.id not in allowed:
            return False
        from tokendash.config.openclaw import load_openclaw_config

        try:
            cfg = load_openclaw_config(self.settings.openclaw_state_dir)
        except Exception:
            cfg = None
        return bool(provider_keys(self.id, cfg))

    def poll(self, cursors: Mapping[str, FileCursor]) -> Iterator[PollBatch]:
        from tokendash.providers.runner import poll_into
        from tokendash.store.db import open_store
        from tokendash.store.repo import Store

        store = Store(open_store(self.settings.effective_database_url), host_id=self.settings.host_id)
        try:
            [res] = poll_into(self.settings, store, [self.id])
        finally:
            store.engine.dispose()
        if not res.ok and res.items == 0:
            raise SourceError(res.error or f"{self.id}: poll failed")
        yield PollBatch(problems=[res.error] if res.error else [])


def factory(provider: str) -> Any:
    def make(settings: Any) -> ProviderSource:
        return ProviderSource(settings, provider)

    return make
