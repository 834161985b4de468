"""The contract of a provider source: what it needs (keys, a base URL), what it can report
(capabilities), and ``fetch(ctx) -> Fetched``. Each provider module defines one ``ProviderDef``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tokendash.providers.http import HttpPolicy, ProviderHttp
from tokendash.providers.model import DAY_MS, Fetched, month_start_ms, utc_midnight


@dataclass
class Context:
    provider: str
    keys: dict[str, str]
    settings: Any
    now_ms: int
    policy: HttpPolicy
    transport: httpx.BaseTransport | None = None
    clients: list[ProviderHttp] = field(default_factory=list)
    down: dict[str, str] = field(default_factory=dict)

    def client(self, base_url: str, headers: dict[str, str]) -> ProviderHttp:
        # Every client of one poll shares the secrets list, so no key of this provider can leak
        # through another of its endpoints' errors.
        c = ProviderHttp(self.provider, base_url, headers, self.policy, self.keys.values(), transport=self.transport,
                         down=self.down)
        self.clients.append(c)
        return c

    @property
    def requests(self) -> int:
        return sum(c.requests for c in self.clients)

    @property
    def today_ms(self) -> int:
        return utc_midnight(self.now_ms)

    @property
    def start_ms(self) -> int:
        """Where reported history is fetched from: the month's start or ``lookback`` days back,
        whichever is earlier (so the trailing 7 and 30 days are covered on the 1st too)."""
        back = self.today_ms - self.settings.provider_lookback_days * DAY_MS
        return min(month_start_ms(self.now_ms), back)

    @property
    def end_ms(self) -> int:
        return self.today_ms + DAY_MS  # through the end of today (UTC)


@dataclass(frozen=True)
class ProviderDef:
    id: str
    name: str
    required: tuple[str, ...]  # key roles needed for the source to be configured (any of them)
    capabilities: Callable[[dict[str, str]], list[str]]
    fetch: Callable[[Context], Fetched]
    base_url: Callable[[Any], str]

    def configured(self, keys: dict[str, str]) -> bool:
        return any(r in keys for r in self.required)
