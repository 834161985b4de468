"""``tokendash alerts``: open alerts (or all, with resolved ones)."""

from __future__ import annotations

import click

ICON = {"critical": "🔴", "warning": "🟡", "info": "ℹ️"}


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Resolved alerts too.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the token-dashboard.alerts result.")
@click.pass_context
def alerts(ctx: click.Context, show_all: bool, limit: int, as_json: bool) -> None:
    """Budget, balance, spend and source alerts, with when each was first and last seen.

    \b
    Example:
      tokendash alerts
      tokendash alerts --all --json
    """
    from tokendash.cli.client import call_method

    result = call_method(ctx, "token-dashboard.alerts", {"state": "all" if show_all else "open", "limit": limit})
    if as_json:
        from tokendash.cli import emit_json

        emit_json(result)
        return
    if not result["alerts"]:
        click.echo("No open alerts." if not show_all else "No alerts.")
    for a in result["alerts"]:
        when = f"since {a.get('firstSeen')}" if a["state"] == "open" else f"resolved {a.get('timestamp')}"
        click.echo(f"{ICON.get(a['severity'], '•')} [{a['type']}] {a['message']} ({when})")
