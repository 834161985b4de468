from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def make_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Any]:
    """An App on a fresh home with no TOKENDASH_* from the developer's environment; keyword arguments
    are settings (as CLI flags would be)."""
    from tokendash.app import App
    from tokendash.config.settings import load_settings

    for k in list(os.environ):
        if k.startswith("TOKENDASH_") or k in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "OPENCLAW_STATE_DIR"):
            monkeypatch.delenv(k)
    home = tmp_path / "home"
    monkeypatch.setenv("TOKENDASH_HOME", str(home))
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(empty))

    def build(**settings: Any) -> Any:
        return App(load_settings(**settings))

    return build
