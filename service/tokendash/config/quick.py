"""The few scalar settings a read command needs before anything else (store URL, time zone), resolved
without importing pydantic: a whole ``tokendash report`` costs less than building the settings model.

Same precedence and spelling as ``config.settings`` (which uses these functions for its own sources):
``TOKENDASH_<FIELD>`` → ``$TOKENDASH_HOME/config.toml`` (camelCase or snake_case key) → default.
``tests/unit/test_settings.py`` checks that both give the same values.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any


def default_home() -> Path:
    return Path(os.environ.get("TOKENDASH_HOME") or "~/.local/state/tokendash").expanduser()


def read_config_toml(home: Path | None = None) -> dict[str, Any]:
    """``config.toml`` as a dict ({} when there is none); ``ConfigError`` when it is broken."""
    path = (home or default_home()) / "config.toml"
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        from tokendash.errors import ConfigError

        raise ConfigError(f"{path}: {e}") from e


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


class QuickSettings:
    """Read-only scalar settings, resolved on first use."""

    def __init__(self, database_url: str | None = None) -> None:
        self._flag_database_url = database_url
        self._toml: dict[str, Any] | None = None

    def _value(self, name: str) -> Any:
        raw = os.environ.get(f"TOKENDASH_{name.upper()}")
        if raw:
            return raw
        if self._toml is None:
            self._toml = read_config_toml()
        for key in (_camel(name), name):
            if key in self._toml:
                return self._toml[key]
        return None

    @property
    def home(self) -> Path:
        return default_home()

    @property
    def timezone(self) -> str | None:
        v = self._value("timezone")
        return str(v) if v else None

    @property
    def effective_database_url(self) -> str:
        url = self._flag_database_url or self._value("database_url")
        return str(url) if url else f"sqlite:///{self.home / 'tokendash.db'}"
