"""Settings precedence (SPEC §3): defaults < config.toml < TOKENDASH_* < flags; only TOKENDASH_* and the
agents' own directory variables are read from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokendash.config.settings import load_settings
from tokendash.errors import ConfigError


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    import os

    for k in list(os.environ):
        if k.startswith("TOKENDASH_") or k in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "OPENCLAW_STATE_DIR"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("TOKENDASH_HOME", str(tmp_path))
    return monkeypatch


def test_defaults(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    s = load_settings()
    assert s.home == tmp_path
    assert s.effective_database_url == f"sqlite:///{tmp_path / 'tokendash.db'}"
    assert (s.http_addr, s.grpc_addr, s.currency, s.poll_interval_minutes) == ("127.0.0.1:18790", "127.0.0.1:18791", "USD", 15)
    assert s.effective_url == "http://127.0.0.1:18790"


def test_plain_environment_names_are_not_settings(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # HOME, TOKEN, URL, CURRENCY … belong to other programs.
    env.setenv("HOME", "/somewhere/else")
    env.setenv("TOKEN", "leak")
    env.setenv("URL", "http://example.invalid")
    env.setenv("CURRENCY", "JPY")
    s = load_settings()
    assert (s.home, s.token, s.url, s.currency) == (tmp_path, None, None, "USD")


def test_precedence_toml_env_flags(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        'pollIntervalMinutes = 3\ncurrency = "EUR"\ntimezone = "Europe/Berlin"\n'
        'fx = { EUR = 1.08 }\n[sources.codex]\nbilling = "subscription"\n'
        '[[budgets]]\nid = "daily"\nperiod = "daily"\nlimit = 5\n'
    )
    s = load_settings()
    assert (s.poll_interval_minutes, s.currency, s.timezone, s.fx) == (3, "EUR", "Europe/Berlin", {"EUR": 1.08})
    assert s.sources["codex"].billing == "subscription"
    assert s.budgets[0].limit == 5 and s.budgets[0].thresholds == [75, 90, 100]
    env.setenv("TOKENDASH_CURRENCY", "CNY")
    env.setenv("TOKENDASH_FX", "CNY=0.14,EUR=1.1")
    env.setenv("TOKENDASH_ENABLED_PROVIDERS", "openai,deepseek")
    env.setenv("CODEX_HOME", "/opt/codex")
    s = load_settings()
    assert (s.currency, s.fx, s.enabled_providers, s.codex_home) == ("CNY", {"CNY": 0.14, "EUR": 1.1}, ["openai", "deepseek"], "/opt/codex")
    assert load_settings(currency="GBP", timezone="Asia/Tokyo").currency == "GBP"


def test_bad_config_is_a_clear_error(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("pollIntervalMinutes = = 3\n")
    with pytest.raises(ConfigError, match="config.toml"):
        load_settings()
    (tmp_path / "config.toml").unlink()
    env.setenv("TOKENDASH_BUDGETS", "[not json")
    with pytest.raises(ConfigError, match="TOKENDASH_BUDGETS"):
        load_settings()


def test_masked_hides_secrets(env: pytest.MonkeyPatch) -> None:
    s = load_settings(
        token="s3cret-token", database_url="postgresql+psycopg://u:pw@db/x",
        webhooks=[{"url": "https://api.telegram.org/bot123:ABC/sendMessage", "format": "telegram"}],
    )
    text = str(s.masked())
    for secret in ("s3cret-token", ":pw@", "123:ABC"):
        assert secret not in text


@pytest.mark.parametrize(
    ("toml", "environ", "flag"),
    [
        ("", {}, None),
        ('timezone = "Asia/Kolkata"\ndatabaseUrl = "sqlite:////tmp/a.db"\n', {}, None),
        ('timezone = "Asia/Kolkata"\ndatabase_url = "sqlite:////tmp/b.db"\n', {}, None),
        ('timezone = "Asia/Kolkata"\n', {"TOKENDASH_TIMEZONE": "America/Lima"}, None),
        ("", {"TOKENDASH_DATABASE_URL": "sqlite:////tmp/c.db", "TOKENDASH_TIMEZONE": ""}, None),
        ('databaseUrl = "sqlite:////tmp/a.db"\n', {"TOKENDASH_DATABASE_URL": "sqlite:////tmp/c.db"}, "sqlite:////tmp/d.db"),
    ],
)
def test_quick_settings_agree_with_the_model(
    env: pytest.MonkeyPatch, tmp_path: Path, toml: str, environ: dict[str, str], flag: str | None
) -> None:
    # Read commands resolve the store and time zone without the settings model; the values must match.
    from tokendash.config.quick import QuickSettings

    (tmp_path / "config.toml").write_text(toml)
    for k, v in environ.items():
        env.setenv(k, v)
    full = load_settings(database_url=flag)
    quick = QuickSettings(flag)
    assert (quick.home, quick.timezone, quick.effective_database_url) == (
        full.home, full.timezone, full.effective_database_url,
    )


def test_quick_settings_report_a_broken_config(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tokendash.config.quick import QuickSettings

    (tmp_path / "config.toml").write_text("timezone = \n")
    with pytest.raises(ConfigError, match="config.toml"):
        QuickSettings().timezone  # noqa: B018 (the property is the call under test)


def test_masked_hides_credentials_in_every_url(env: pytest.MonkeyPatch) -> None:
    env.setenv("TOKENDASH_CHROMADB_URL", "http://admin:s3cret-chroma@127.0.0.1:8000")
    env.setenv("TOKENDASH_OLLAMA_URL", "http://user:s3cret-ollama@127.0.0.1:11434")
    env.setenv("TOKENDASH_DATABASE_URL", "postgresql://tokendash:s3cret-db@127.0.0.1/test")
    env.setenv("TOKENDASH_TOKEN", "s3cret-token")
    dumped = str(load_settings().masked())
    assert "s3cret" not in dumped
    assert "http://admin:****@127.0.0.1:8000" in dumped
