"""``tokendash ingest``: one pass over every source, with a progress bar on a terminal."""

from __future__ import annotations

import contextlib
import sys
import time

import click

from tokendash.cli import emit_json, make_app


class _Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.planned = 0
        self.done = 0
        self.events = 0
        self.t0 = time.monotonic()

    def __call__(self, source: str, batch, events: int) -> None:  # type: ignore[no-untyped-def]
        if batch.planned_bytes:
            self.planned, self.done, self.events = batch.planned_bytes, 0, 0
        self.done += batch.bytes_read
        self.events += events
        if not self.tty:
            return
        width = 30
        frac = min(1.0, self.done / self.planned) if self.planned else 0.0
        bar = "█" * int(frac * width) + "░" * (width - int(frac * width))
        sys.stderr.write(
            f"\r{source:<12} {bar} {self.done / 1e6:8.1f}/{self.planned / 1e6:.1f} MB  {self.events:,} events"
        )
        sys.stderr.flush()

    def end(self) -> None:
        if self.tty:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _can_fork() -> bool:
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods()


RESULT_KEYS = ("source", "ok", "error", "files", "bytesRead", "eventsSeen", "items", "snapshots",
               "malformedLines", "problems")


def _via_sidecar(ctx: click.Context, only: tuple[str, ...]) -> list[dict] | None:
    """The pass run by a running sidecar (its scheduler owns the sources; two writers reading the same
    logs would only duplicate work), or None when none answers or ``--database-url`` names a store."""
    if (ctx.find_root().obj or {}).get("database_url"):
        return None
    from tokendash.cli.client import NoSidecar, call_sidecar, endpoint

    url, token = endpoint()
    params: dict = {"timeoutSeconds": 600, "waitForDashboard": False}
    if only:
        params["sources"] = list(only)
    try:
        result = call_sidecar(url, token, "token-dashboard.refresh", params)
    except NoSidecar:
        return None
    defaults = {"error": None, "files": 0, "bytesRead": 0, "eventsSeen": 0, "items": 0, "snapshots": 0,
                "malformedLines": 0, "problems": []}
    return [{k: {**defaults, **r}.get(k) for k in RESULT_KEYS} for r in result.get("results") or []]


@click.command()
@click.option("--source", "only", multiple=True, help="Only this source (repeatable): claude-code, codex, openclaw.")
@click.option("--local", is_flag=True, help="Read in this process even when a sidecar is running.")
@click.option("--json", "as_json", is_flag=True, help="Print the per-source results as JSON.")
@click.pass_context
def ingest(ctx: click.Context, only: tuple[str, ...], local: bool, as_json: bool) -> None:
    """Read what the agents' logs added since the last pass into the store.

    With a sidecar running, it does the pass (and its dashboard sees it at once); otherwise this
    process does, with its own parse workers.

    \b
    Example:
      tokendash ingest
      tokendash ingest --source claude-code --json
    """
    t0 = time.monotonic()
    results = None if local else _via_sidecar(ctx, only)
    if results is None:
        results = [r.as_dict() for r in _in_process(ctx, only)]
    elapsed = time.monotonic() - t0
    if as_json:
        emit_json({"results": results, "seconds": round(elapsed, 3)})
    else:
        if not results:
            click.echo("No sources found: no Claude Code, Codex or OpenClaw logs on this machine.")
        for r in results:
            status = "ok" if r["ok"] else f"FAILED: {r['error']}"
            click.echo(
                f"{r['source']:<12} {status}  files {r['files']:,}  read {r['bytesRead'] / 1e6:,.1f} MB  "
                f"new/updated events {r['items']:,}"
                + (f"  malformed lines {r['malformedLines']:,}" if r["malformedLines"] else "")
            )
            for p in r["problems"][:5]:
                click.echo(f"  ! {p}", err=True)
        click.echo(f"done in {elapsed:.2f} s")
    if any(not r["ok"] for r in results):
        ctx.exit(1)


def _in_process(ctx: click.Context, only: tuple[str, ...]) -> list:
    from tokendash.ingest import LazyStore, ParsePool, default_workers
    from tokendash.ingest import ingest as run

    with contextlib.ExitStack() as stack:
        # Fork the parse workers before anything heavy is loaded here (see ParsePool); a pass with
        # little to read leaves them idle, which costs a few milliseconds.
        pool = stack.enter_context(ParsePool()) if default_workers() > 1 and _can_fork() else None
        from tokendash.sources.registry import all_factories
        from tokendash.store.rows import machine_host_id

        unknown = [s for s in only if s not in all_factories()]
        if unknown:
            raise click.UsageError(f"unknown source {unknown[0]!r}; known: {', '.join(all_factories())}")
        app = make_app(ctx)
        sources = app.sources(list(only) or None)
        progress = _Progress()
        store = LazyStore(lambda: app.store, app.settings.effective_database_url, app.settings.host_id or machine_host_id())
        try:
            return run(store, app.prices, [s for s in sources if only or s.configured()], progress, pool=pool)
        finally:
            progress.end()
