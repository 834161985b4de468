"""OpenClaw's own config file, read for what tokendash needs from it (SPEC §3, §5 rule 5).

The file is ``$OPENCLAW_STATE_DIR/openclaw.json`` (default ``~/.openclaw/openclaw.json``), JSON5
(comments, trailing commas, unquoted keys). It is only ever read. Model prices live under
``models.providers.<providerId>.models[]`` as ``{"id": …, "cost": {"input", "output", "cacheRead",
"cacheWrite"}}`` in USD per million tokens, the shape ``PriceBook`` takes as an override.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import json5

CONFIG_NAME = "openclaw.json"
_COST_KEYS = ("input", "output", "cacheRead", "cacheWrite", "cacheWrite1h")


def default_state_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    raw = (env.get("OPENCLAW_STATE_DIR") or "").strip()
    return Path(raw).expanduser() if raw else Path(env.get("HOME") or Path.home()) / ".openclaw"


def config_path(state_dir: str | Path | None = None) -> Path:
    base = Path(state_dir).expanduser() if state_dir else default_state_dir()
    return base / CONFIG_NAME


def load_openclaw_config(state_dir: str | Path | None = None) -> dict[str, Any] | None:
    """The parsed config, or None when there is no config file. A file that exists but cannot be read
    or parsed raises (``doctor`` reports it; pricing goes on without the overrides)."""
    path = config_path(state_dir)
    if not path.is_file():
        return None
    cfg = json5.loads(path.read_text(encoding="utf-8"))
    if not isinstance(cfg, dict):
        raise ValueError(f"{path}: the top level is not an object")
    return cfg


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def price_overrides(cfg: Mapping[str, Any] | None) -> dict[tuple[str, str], dict[str, Any]]:
    """``(provider, model) → cost`` from ``models.providers.*.models[].cost``; entries that are not
    numbers are left out rather than guessed."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    models = (cfg or {}).get("models")
    providers = models.get("providers") if isinstance(models, dict) else None
    if not isinstance(providers, dict):
        return out
    for provider_id, provider in providers.items():
        entries = provider.get("models") if isinstance(provider, dict) else None
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                continue
            cost = entry.get("cost")
            if not isinstance(cost, dict):
                continue
            clean = {k: cost[k] for k in _COST_KEYS if _number(cost.get(k))}
            if clean:
                out[(str(provider_id), entry["id"])] = clean
    return out
