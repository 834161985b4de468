"""The command line as a user meets it: exit codes, JSON/CSV output, doctor, status, filters."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.support import Cli, gen_corpus


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, dict]:
    tmp = tmp_path_factory.mktemp("cli")
    claude = tmp / ".claude"
    manifest = gen_corpus(claude, files=6, assistant_lines=600, seed=9, end_date="2026-09-30", days=20)
    cli = Cli(tmp, claude=claude)
    cli.run("ingest")
    return cli, manifest


def test_doctor_before_and_after_ingest(tmp_path: Path) -> None:
    claude = tmp_path / ".claude"
    gen_corpus(claude, files=2, assistant_lines=30)
    cli = Cli(tmp_path, claude=claude)
    out = cli.run("doctor", "--no-settings").stdout
    assert "source claude-code" in out and "never ingested" in out and "run `tokendash ingest`" in out
    assert "source openai       no key" in out and "set OPENAI_ADMIN_KEY" in out  # where to put the key
    cli.run("ingest")
    doc = cli.json("doctor")
    assert doc["ok"] is True
    checks = {c["name"]: c for c in doc["checks"]}
    assert checks["store"]["state"] == "ok" and "events" in checks["store"]["detail"]
    assert checks["source claude-code"]["state"] == "ok"
    assert checks["sidecar"]["state"] == "info"  # nothing listens on the test URL
    assert doc["settings"]["home"] == str(cli.home)


def test_doctor_fails_on_unusable_store(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.env["TOKENDASH_DATABASE_URL"] = "postgresql+psycopg://nobody:hunter2@127.0.0.1:9/none"
    p = cli.run("doctor", check=False)
    assert p.returncode == 1
    assert "hunter2" not in p.stdout + p.stderr
    assert "❌ store" in p.stdout


def test_exit_codes_and_clean_errors(filled: tuple[Cli, dict]) -> None:
    cli, _ = filled
    p = cli.run("report", "daily", "--tz", "Mars/Base", check=False)
    assert p.returncode == 2 and "unknown time zone" in p.stderr and "Traceback" not in p.stderr
    p = cli.run("report", "daily", "--since", "yesterday-ish", check=False)
    assert p.returncode == 2 and "since" in p.stderr
    assert cli.run("report", "--no-such-flag", check=False).returncode == 2
    assert cli.run("no-such-command", check=False).returncode == 2


def test_report_filters_and_formats(filled: tuple[Cli, dict]) -> None:
    cli, manifest = filled
    days = sorted(manifest["dedupByDay"])
    mid = days[len(days) // 2]
    part = cli.json("report", "daily", "--tz", "UTC", "--since", mid)
    assert [r["date"] for r in part["rows"]] == [d for d in days if d >= mid]
    only = cli.json("report", "daily", "--tz", "UTC", "--until", mid)
    assert [r["date"] for r in only["rows"]] == [d for d in days if d <= mid]

    model = sorted(manifest["dedupByModel"])[0]
    m = cli.json("report", "monthly", "--tz", "UTC", "--model", model)
    assert m["totals"]["tokens"]["output"] == manifest["dedupByModel"][model]["outputTokens"]
    assert cli.json("report", "daily", "--provider", "openai")["rows"] == []

    text = cli.run("report", "daily", "--csv", "--tz", "UTC").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["date"] for r in rows] == days
    assert sum(int(r["output"]) for r in rows) == manifest["dedupTotals"]["outputTokens"]

    sessions = cli.json("report", "session")
    assert sum(r["requests"] for r in sessions["rows"]) == manifest["dedupTotals"]["entries"]
    weekly = cli.json("report", "weekly", "--tz", "UTC")
    from datetime import date

    assert weekly["rows"] and all(date.fromisoformat(r["week"]).weekday() == 0 for r in weekly["rows"])
    assert weekly["totals"]["tokens"]["total"] == manifest["dedupTotals"]["totalTokens"]

    table = cli.run("report", "daily", "--tz", "UTC").stdout
    assert "Total" in table and f"{manifest['dedupTotals']['outputTokens']:,}" in table


def test_status_text_and_json(filled: tuple[Cli, dict]) -> None:
    cli, _ = filled
    st = cli.json("status")
    assert st["periods"]["month"]["tokens"]["total"] >= 0
    assert {s["id"] for s in st["sources"]} >= {"claude-code"}
    claude = next(s for s in st["sources"] if s["id"] == "claude-code")
    assert claude["ok"] and claude["configured"]
    text = cli.run("status").stdout
    assert text.startswith("📊") and "Last updated" in text
    json.dumps(st)  # plain JSON


def test_a_report_loads_neither_the_settings_model_nor_the_orm(filled: tuple[Cli, dict]) -> None:
    # `tokendash report` on a SQLite store at the current schema is start-up bound (≥10× faster than
    # ccusage): it reads the store URL and time zone itself and queries with plain sqlite3.
    import subprocess
    import sys

    cli, manifest = filled
    code = (
        "import sys\nfrom tokendash.cli import main\nsys.argv = ['tokendash', 'report', 'daily', '--json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('pydantic_settings', 'pydantic', 'sqlalchemy', 'alembic', 'genai_prices')"
        " if m in sys.modules), file=sys.stderr)"
    )
    p = subprocess.run([sys.executable, "-c", code], env=cli.env, capture_output=True, text=True, timeout=60)
    assert json.loads(p.stdout)["totals"]["tokens"]["total"] == manifest["dedupTotals"]["totalTokens"]
    assert p.stderr.strip() == "[]"
