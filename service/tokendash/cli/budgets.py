"""``tokendash budgets``: each configured budget's spend this period against its limit."""

from __future__ import annotations

import click

from tokendash.render.text import render_budgets


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the token-dashboard.budgets result.")
@click.pass_context
def budgets(ctx: click.Context, as_json: bool) -> None:
    """Spend of the current period against each budget: state, percent, projected end-of-period spend.

    \b
    Example:
      tokendash budgets
      tokendash budgets --json
    """
    from tokendash.cli.client import call_method

    result = call_method(ctx, "token-dashboard.budgets", {})
    if as_json:
        from tokendash.cli import emit_json

        emit_json(result)
    else:
        click.echo(render_budgets(result["budgets"]))
