"""``tokendash status``: the dashboard, as text or JSON."""

from __future__ import annotations

import click

from tokendash.cli import emit_json


@click.command()
@click.option("--refresh", is_flag=True, help="Read new log lines (and poll providers) first.")
@click.option("--json", "as_json", is_flag=True, help="Print the DashboardSummary JSON.")
@click.pass_context
def status(ctx: click.Context, refresh: bool, as_json: bool) -> None:
    """Spend today, this week and this month, providers, burn rate, budgets and alerts.

    \b
    Example:
      tokendash status
      tokendash status --refresh --json
    """
    from tokendash.cli.client import call_method

    if refresh:
        from tokendash.cli import make_app
        from tokendash.ingest import ingest

        app = make_app(ctx)
        ingest(app.store, app.prices, [s for s in app.sources() if s.configured()])
    result = call_method(ctx, "token-dashboard.status", {"format": "json" if as_json else "text"})
    if as_json:
        emit_json(result)
    else:
        click.echo(result["text"])
