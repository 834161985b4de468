"""``tokendash archive``: fold raw usage events older than ``historyRetentionDays`` into rollups that are
kept for good (``tokendash.store.archive``). Every report gives the same figures before and after."""

from __future__ import annotations

import click

from tokendash.cli import emit_json, make_app


@click.command()
@click.option("--dry-run", is_flag=True, help="Print what would be folded, per UTC day; change nothing.")
@click.option("--auto", is_flag=True,
              help="Run only when the last archive is a day old (what the sidecar does by itself once a day).")
@click.option("--retention-days", type=click.IntRange(min=1),
              help="Keep this many days raw (default historyRetentionDays, 90).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def archive(ctx: click.Context, dry_run: bool, auto: bool, retention_days: int | None, as_json: bool) -> None:
    """Fold raw events older than the retention into 15-minute rollups (kept for good).

    Reports, budgets, burn and /metrics read events and rollups alike, so every total stays the same;
    a log line read again after its event was archived is not counted twice. At least 8 days always
    stay raw (the trailing 7-day burn reads raw events), and the runaway alert's baseline days.

    \b
    Example:
      tokendash archive --dry-run
      tokendash archive
      tokendash archive --auto          # from cron; the sidecar does this by itself daily
    """
    if dry_run and auto:
        raise click.UsageError("--dry-run and --auto are mutually exclusive")
    from tokendash.store.archive import archive as run
    from tokendash.store.archive import raw_days, render

    app = make_app(ctx)
    days = raw_days(app.settings, retention_days)
    res = run(app.store.engine, retention_days=days, dry_run=dry_run, auto=auto)
    if as_json:
        emit_json(res.as_dict())
    else:
        click.echo(render(res), nl=False)
