"""Provider billing, usage and balance APIs (issue 5): OpenAI, Anthropic, OpenRouter, Moonshot and
DeepSeek polled through one HTTP layer, stored as buckets and balance history, reconciled with the
local logs, and turned into burn rate and runway.

The public surface, all taking the ``App``:

* ``poll(app, only=None) -> list[PollResult]``: poll the configured providers once and store the result;
* ``provider_infos(app, now_ms=None) -> list[dict]``: ``ProviderInfo`` (SPEC §8);
* ``provider_statuses(app, now_ms=None) -> list[dict]``: the ``providers`` of ``DashboardSummary``;
* ``burn(app, now_ms=None) -> dict``: ``{total: BurnRate, providers: [BurnRate]}``;
* ``reconcile(app, now_ms=None) -> dict``: billed vs attributed per provider and period.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PollResult", "burn", "poll", "provider_infos", "provider_statuses", "reconcile"]


def __getattr__(name: str) -> Any:
    # Loaded on first use: ``tokendash report`` must not pay for httpx and the provider modules.
    if name in ("poll", "PollResult"):
        from tokendash.providers import runner

        return getattr(runner, name)
    if name in ("provider_infos", "provider_statuses", "burn", "reconcile"):
        from tokendash.providers import views

        return getattr(views, name)
    raise AttributeError(name)
