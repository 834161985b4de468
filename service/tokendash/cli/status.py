"""``tokendash status``: the dashboard, as text or JSON."""

from __future__ import annotations

import click


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

    params = {"format": "json" if as_json else "text"}
    if refresh:
        params["refresh"] = True
    result = call_method(ctx, "token-dashboard.status", params)
    if as_json:
        from tokendash.cli import emit_json

        emit_json(result)
    else:
        click.echo(result["text"])
