"""Key lookup (SPEC §3): OpenClaw ``models.providers.<id>.apiKey``, then OpenClaw ``env.<VAR>``, then the
process environment; a whole-string ``${VAR}`` is expanded; an Admin key wins for the billing APIs that
need one; keys are shown only as a hint."""

from __future__ import annotations

from tokendash.providers.keys import KEYS, key_hint, lookup_key, provider_keys

DS = KEYS["deepseek"]["api"]
OPENAI = KEYS["openai"]["admin"]


def cfg(api_key: object = None, env: dict[str, object] | None = None, provider: str = "deepseek") -> dict[str, object]:
    out: dict[str, object] = {"env": env or {}}
    if api_key is not None:
        out["models"] = {"providers": {provider: {"apiKey": api_key}}}
    return out


def test_openclaw_provider_key_comes_first() -> None:
    assert lookup_key(DS, cfg("sk-config", {"DEEPSEEK_API_KEY": "sk-cfgenv"}), {"DEEPSEEK_API_KEY": "sk-env"}) == "sk-config"


def test_then_the_openclaw_env_block_then_the_process_environment() -> None:
    assert lookup_key(DS, cfg(None, {"DEEPSEEK_API_KEY": "sk-cfgenv"}), {"DEEPSEEK_API_KEY": "sk-env"}) == "sk-cfgenv"
    assert lookup_key(DS, cfg(None, {"vars": {"DEEPSEEK_API_KEY": "sk-vars"}}), {}) == "sk-vars"
    assert lookup_key(DS, None, {"DEEPSEEK_API_KEY": "sk-env"}) == "sk-env"
    assert lookup_key(DS, None, {}) is None


def test_a_whole_string_variable_is_expanded_from_openclaw_env_then_the_environment() -> None:
    assert lookup_key(DS, cfg("${MY_DS}", {"MY_DS": "sk-from-cfg"}), {"MY_DS": "sk-from-env"}) == "sk-from-cfg"
    assert lookup_key(DS, cfg("${MY_DS}"), {"MY_DS": "sk-from-env"}) == "sk-from-env"
    # Only a whole string is a reference; an unresolvable one falls through to the next place.
    assert lookup_key(DS, cfg("pre${MY_DS}"), {}) == "pre${MY_DS}"
    assert lookup_key(DS, cfg("${NOPE}"), {"DEEPSEEK_API_KEY": "sk-env"}) == "sk-env"
    assert lookup_key(DS, cfg({"source": "env", "id": "MY_DS"}), {"MY_DS": "sk-ref"}) == "sk-ref"


def test_an_admin_key_beats_an_inference_key_for_billing() -> None:
    c = cfg("sk-proj-inference", provider="openai")
    assert lookup_key(OPENAI, c, {"OPENAI_ADMIN_KEY": "sk-admin-billing"}) == "sk-admin-billing"
    assert lookup_key(OPENAI, c, {}) == "sk-proj-inference"  # tried, and a 403 will say why


def test_openrouter_has_two_keys_and_each_is_found() -> None:
    keys = provider_keys("openrouter", cfg("sk-or-api", provider="openrouter"), {"OPENROUTER_MANAGEMENT_KEY": "sk-or-mgmt"})
    assert keys == {"api": "sk-or-api", "management": "sk-or-mgmt"}
    assert provider_keys("openrouter", None, {}) == {}


def test_key_hint_shows_a_prefix_and_the_last_four() -> None:
    assert key_hint("sk-admin-abcdefghijklmnop1234") == "sk-…1234"
    assert key_hint("abcdefghijklmnopqrstu9876") == "…9876"
    assert key_hint("short") == "…rt"
    assert key_hint(None) is None
