"""The display currency (SPEC §3): amounts are kept in USD and converted with the configured rates
(``TOKENDASH_FX``: ``EUR=1.08`` means 1 EUR = 1.08 USD). There is no network lookup of rates, and no
made-up rate: a display currency without one is a configuration error."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from tokendash.errors import ConfigError


@dataclass(frozen=True)
class Money:
    currency: str
    usd_per_unit: float

    @classmethod
    def display(cls, currency: str, fx: Mapping[str, float]) -> Money:
        cur = (currency or "USD").upper()
        if cur == "USD":
            return cls("USD", 1.0)
        rate = fx.get(cur)
        if rate is None or not math.isfinite(rate) or rate <= 0:
            raise ConfigError(
                f"display currency {cur} has no usable rate: set TOKENDASH_FX (e.g. {cur}=1.08, meaning 1 {cur} = 1.08 USD)"
            )
        return cls(cur, float(rate))

    def from_usd(self, usd: float) -> float:
        return usd / self.usd_per_unit
