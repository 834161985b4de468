"""``tokendash doctor``: is everything where it should be? Each check says ok / warn / fail and what to
do; the effective settings follow with secrets masked (SPEC §3). Exit 1 when a check failed."""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click

from tokendash.cli import emit_json, make_app

MARK = {"ok": "✅", "warn": "⚠️ ", "fail": "❌", "info": "ℹ️ "}


@dataclass
class Check:
    name: str
    state: str  # ok | warn | fail | info
    detail: str
    hint: str | None = None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("openclaw-token-dashboard")
    except PackageNotFoundError:
        return "unknown"


def _home_check(home: Path) -> Check:
    if not home.exists():
        return Check("home", "info", f"{home} does not exist yet", "it is created on the first `tokendash ingest`")
    if not os.access(home, os.W_OK):
        return Check("home", "fail", f"{home} is not writable", "fix its permissions or set TOKENDASH_HOME")
    cfg = home / "config.toml"
    return Check("home", "ok", f"{home}" + (f" (config {cfg})" if cfg.is_file() else " (no config.toml; defaults)"))


def _store_check(app: Any) -> Check:
    from tokendash.config.settings import _mask_url
    from tokendash.store.db import HEAD, current_revision

    url = _mask_url(app.settings.effective_database_url)
    try:
        store = app.store
        rev = current_revision(store.engine)
        n = store.count_events()
    except Exception as e:  # the message of a StoreError never holds a password
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        return Check("store", "fail", f"{url}: {first}", "check TOKENDASH_DATABASE_URL and that the database is up")
    if rev != HEAD:
        return Check("store", "fail", f"{url}: schema {rev}, expected {HEAD}", "run `tokendash ingest` to migrate")
    size = ""
    if store.sqlite:
        p = Path(app.settings.effective_database_url[len("sqlite:///") :])
        if p.is_file():
            size = f", {p.stat().st_size / 1e6:.1f} MB"
    return Check("store", "ok", f"{url} (schema {rev}, {n:,} events{size})")


def _timezone_check(app: Any) -> Check:
    from tokendash.accounting.timezones import zone

    try:
        zone(app.timezone)
    except Exception as e:
        return Check("timezone", "fail", str(e), "set TOKENDASH_TIMEZONE to an IANA name such as Europe/Berlin")
    how = "configured" if app.settings.timezone else "system"
    return Check("timezone", "ok", f"{app.timezone} ({how}); currency {app.settings.currency}")


def _where(src: Any) -> str:
    for attr in ("config_dirs", "roots", "home", "state_dir", "root"):
        v = getattr(src, attr, None)
        if v:
            return ", ".join(str(p) for p in v) if isinstance(v, list | tuple) else str(v)
    return ""


def _source_checks(app: Any) -> list[Check]:
    from tokendash.sources.registry import all_factories

    states = {}
    with contextlib.suppress(Exception):  # the store check reports why
        states = app.store.source_states()
    built = {s.id: s for s in app.sources()}
    out: list[Check] = []
    for name in all_factories():
        opts = app.settings.source_options(name)
        if not opts.enabled:
            out.append(Check(f"source {name}", "info", "disabled in settings"))
            continue
        src = built.get(name)
        if src is None:
            out.append(Check(f"source {name}", "warn", "not available in this build"))
            continue
        where = _where(src)
        try:
            configured = bool(src.configured())
        except Exception as e:
            out.append(Check(f"source {name}", "fail", f"{type(e).__name__}: {e}"))
            continue
        st = states.get(name)
        if not configured:
            if getattr(src, "kind", "local") == "api":
                out.append(Check(f"source {name}", "info", "no key", _key_hint_for(name)))
            else:
                out.append(Check(f"source {name}", "info", f"nothing found{f' in {where}' if where else ''}",
                                 "set the agent's directory variable if it lives elsewhere"))
            continue
        if st is None:
            out.append(Check(f"source {name}", "warn", f"found {where}, never ingested", "run `tokendash ingest`"))
        elif st.error:
            out.append(Check(f"source {name}", "fail", f"{where}: last run failed: {st.error}"))
        else:
            from datetime import UTC, datetime

            last = datetime.fromtimestamp((st.last_success_ms or 0) / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
            bad = f", {st.malformed_lines} malformed lines skipped" if st.malformed_lines else ""
            state = "warn" if st.malformed_lines or st.problems else "ok"
            out.append(Check(f"source {name}", state, f"{where}: {st.files} files, last read {last}{bad}",
                             st.problems[0] if st.problems else None))
    return out


def _openclaw_check(app: Any) -> Check | None:
    try:
        from tokendash.config.openclaw import load_openclaw_config
    except ImportError:
        return None
    try:
        cfg = load_openclaw_config(app.settings.openclaw_state_dir)
    except Exception as e:
        return Check("openclaw config", "fail", f"{type(e).__name__}: {e}", "fix the JSON5 file; prices fall back to genai-prices")
    if not cfg:
        return Check("openclaw config", "info", "not found (no OpenClaw price overrides)")
    return Check("openclaw config", "ok", "read (model cost overrides applied)")


def _pricing_check() -> Check:
    from importlib.metadata import version

    try:
        return Check("pricing", "ok", f"genai-prices {version('genai-prices')}")
    except Exception as e:
        return Check("pricing", "fail", f"genai-prices missing: {e}", "pip install genai-prices")


def _sidecar_check(app: Any) -> Check:
    import httpx

    url = app.settings.effective_url.rstrip("/") + "/healthz"
    try:
        r = httpx.get(url, timeout=0.5)
    except httpx.HTTPError:
        return Check("sidecar", "info", f"not running at {app.settings.effective_url} (commands use the store directly)",
                     "start it with `tokendash serve`")
    if r.status_code == 200:
        return Check("sidecar", "ok", f"answering at {app.settings.effective_url}")
    return Check("sidecar", "warn", f"{url} answered HTTP {r.status_code}")


def run_checks(app: Any) -> list[Check]:
    checks = [
        Check("tokendash", "ok", f"{_version()} on Python {platform.python_version()} ({sys.platform})"),
        _home_check(app.settings.home),
        _store_check(app),
        _timezone_check(app),
        _pricing_check(),
    ]
    oc = _openclaw_check(app)
    if oc is not None:
        checks.append(oc)
    checks.extend(_source_checks(app))
    checks.append(_sidecar_check(app))
    return checks


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Checks and effective settings as JSON.")
@click.option("--settings/--no-settings", "show_settings", default=True, help="Print the effective settings.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool, show_settings: bool) -> None:
    """Check the store, sources, time zone, pricing and sidecar; print the effective settings.

    \b
    Example:
      tokendash doctor
      tokendash doctor --json
    """
    app = make_app(ctx)
    checks = run_checks(app)
    failed = any(c.state == "fail" for c in checks)
    if as_json:
        emit_json({"ok": not failed, "checks": [asdict(c) for c in checks], "settings": app.settings.masked()})
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            click.echo(f"{MARK[c.state]} {c.name.ljust(width)}  {c.detail}")
            if c.hint and c.state != "ok":
                click.echo(f"   {' ' * width}  → {c.hint}")
        if show_settings:
            import json

            click.echo("\nEffective settings (secrets masked):")
            click.echo(json.dumps(app.settings.masked(), indent=2, sort_keys=True, default=str))
    if failed:
        ctx.exit(1)


def _key_hint_for(provider: str) -> str:
    """Where a provider's key is looked for (SPEC §3), for the doctor's hint."""
    from tokendash.providers.keys import KEYS

    specs = KEYS.get(provider, {})
    names = " or ".join(sorted({s.var for s in specs.values()}))
    in_config = any(s.config_provider for s in specs.values())
    return f"set {names}" + (f" (or models.providers.{provider}.apiKey in openclaw.json)" if in_config else "")
