"""Provider keys (SPEC §3). Per key, in this order: the OpenClaw config's
``models.providers.<id>.apiKey``, the OpenClaw config's ``env.<VAR>`` (or ``env.vars.<VAR>``), then the
process environment. A value that is a whole-string ``${VAR}`` is expanded, from the OpenClaw ``env``
first and then the process environment.

Keys are secrets, not settings, which is why they are read here and not by ``config/settings.py``: they
live only in memory, are sent only to their own provider, and are shown only as a ``keyHint``.

One deliberate refinement of the SPEC order: OpenAI's and Anthropic's billing APIs need an *Admin* key
(``sk-admin-…``, ``sk-ant-admin…``) while ``models.providers.<id>.apiKey`` usually holds an inference
key. When several candidates are found, one with the admin prefix wins over the first found, so a
user with both an inference key in OpenClaw and ``OPENAI_ADMIN_KEY`` in the environment gets billing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KeySpec:
    var: str  # the environment / OpenClaw env variable
    config_provider: str | None = None  # consult models.providers.<id>.apiKey
    admin_prefix: str | None = None


KEYS: dict[str, dict[str, KeySpec]] = {
    "openai": {"admin": KeySpec("OPENAI_ADMIN_KEY", "openai", "sk-admin-")},
    "anthropic": {"admin": KeySpec("ANTHROPIC_ADMIN_KEY", "anthropic", "sk-ant-admin")},
    "openrouter": {
        "api": KeySpec("OPENROUTER_API_KEY", "openrouter"),
        "management": KeySpec("OPENROUTER_MANAGEMENT_KEY"),
    },
    "moonshot": {"api": KeySpec("MOONSHOT_API_KEY", "moonshot")},
    "deepseek": {"api": KeySpec("DEEPSEEK_API_KEY", "deepseek")},
}


def _config_env(cfg: Mapping[str, Any] | None) -> dict[str, str]:
    env = (cfg or {}).get("env")
    if not isinstance(env, dict):
        return {}
    out = {k: v for k, v in env.items() if isinstance(v, str)}
    nested = env.get("vars")
    if isinstance(nested, dict):
        out.update({k: v for k, v in nested.items() if isinstance(v, str)})
    return out


def _expand(value: Any, cfg_env: Mapping[str, str], env: Mapping[str, str]) -> str | None:
    if isinstance(value, dict) and value.get("source") == "env" and isinstance(value.get("id"), str):
        value = "${" + value["id"] + "}"  # OpenClaw's SecretRef form
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value.startswith("${") and value.endswith("}"):
        name = value[2:-1]
        value = (cfg_env.get(name) or env.get(name) or "").strip()
    return value or None


def lookup_key(
    spec: KeySpec, cfg: Mapping[str, Any] | None, env: Mapping[str, str] | None = None
) -> str | None:
    env = os.environ if env is None else env
    cfg_env = _config_env(cfg)
    raw: list[Any] = []
    if spec.config_provider:
        models = (cfg or {}).get("models")
        providers = models.get("providers") if isinstance(models, dict) else None
        entry = providers.get(spec.config_provider) if isinstance(providers, dict) else None
        raw.append(entry.get("apiKey") if isinstance(entry, dict) else None)
    raw += [cfg_env.get(spec.var), env.get(spec.var)]
    found = [k for k in (_expand(v, cfg_env, env) for v in raw) if k]
    if not found:
        return None
    if spec.admin_prefix:
        for k in found:
            if k.startswith(spec.admin_prefix):
                return k
    return found[0]


def provider_keys(
    provider: str, cfg: Mapping[str, Any] | None, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``{role: key}`` for the keys of one provider that were found."""
    out: dict[str, str] = {}
    for role, spec in KEYS.get(provider, {}).items():
        k = lookup_key(spec, cfg, env)
        if k:
            out[role] = k
    return out


def key_hint(key: str | None) -> str | None:
    """``sk-…abcd``: enough to tell keys apart, never enough to use one."""
    if not key:
        return None
    if len(key) < 12:
        return "…" + key[-2:]
    prefix = key[:3] if key[2:3] in "-_" else ""
    return f"{prefix}…{key[-4:]}"
