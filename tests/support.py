"""Shared test helpers: a generated Claude Code corpus, and the real ``tokendash`` CLI run as a
subprocess with an isolated home and agent directories (so a developer's own logs never leak in)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
GEN_CORPUS = Path(os.environ.get("TOKENDASH_GEN_CORPUS", ROOT.parent / "shared" / "tools" / "gen_claude_corpus.py"))


def gen_corpus(out: Path, **kw: Any) -> dict[str, Any]:
    """Run the corpus generator into ``out`` (a Claude config dir) and return its manifest."""
    if not GEN_CORPUS.is_file():
        pytest.skip(f"corpus generator not found at {GEN_CORPUS} (set TOKENDASH_GEN_CORPUS)")
    args = [sys.executable, str(GEN_CORPUS), "--out", str(out)]
    for k, v in kw.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    subprocess.run(args, check=True, capture_output=True)
    return json.loads((out / "manifest.json").read_text())


# Settings and keys a developer's shell may hold: a test must neither read their logs nor poll a real
# provider with a real key.
ISOLATED_VARS = frozenset({
    "CLAUDE_CONFIG_DIR", "CODEX_HOME", "OPENCLAW_STATE_DIR", "OPENAI_ADMIN_KEY", "ANTHROPIC_ADMIN_KEY",
    "OPENROUTER_API_KEY", "OPENROUTER_MANAGEMENT_KEY", "MOONSHOT_API_KEY", "DEEPSEEK_API_KEY",
})


class Cli:
    """``tokendash`` with its own home; agent directories default to empty ones."""

    def __init__(self, tmp: Path, claude: Path | None = None, codex: Path | None = None,
                 openclaw: Path | None = None, database_url: str | None = None) -> None:
        self.home = tmp / "home"
        empty = tmp / "empty"
        empty.mkdir(exist_ok=True)
        self.env = {
            k: v for k, v in os.environ.items()
            if not k.startswith("TOKENDASH_") and k not in ISOLATED_VARS
        }
        self.env.update(
            TOKENDASH_HOME=str(self.home),
            TOKENDASH_URL="http://127.0.0.1:9",  # never talk to a sidecar a developer may be running
            CLAUDE_CONFIG_DIR=str(claude or empty),
            CODEX_HOME=str(codex or empty),
            OPENCLAW_STATE_DIR=str(openclaw or empty),
        )
        if database_url:  # else the SQLite file in the home
            self.env["TOKENDASH_DATABASE_URL"] = database_url

    def run(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        p = subprocess.run([sys.executable, "-m", "tokendash", *args], env=self.env, capture_output=True,
                           text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"tokendash {' '.join(args)} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "tokendash", *args], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


PG_URL = os.environ.get("TOKENDASH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_database():
    """A fresh PostgreSQL database for one test (dropped afterwards); skipped where none answers.
    CI (``.ci/run``) makes sure one does, so there the skip cannot happen silently: it sets
    TOKENDASH_REQUIRE_PG=1 and a missing server fails the test."""
    import uuid

    from sqlalchemy import create_engine, text

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text("SELECT 1"))
    except Exception as e:
        admin.dispose()
        if os.environ.get("TOKENDASH_REQUIRE_PG"):
            raise
        pytest.skip(f"no PostgreSQL at {PG_URL}: {type(e).__name__}")
    name = f"tokendash_t_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def backend_url(request: pytest.FixtureRequest) -> str | None:
    """Run a store-level test on both stores: None is the default SQLite file in the test's home (pass
    it on as ``Cli(..., database_url=backend_url)``), otherwise a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg_database")
