"""``tokendash burn``: burn rate and runway per provider."""

from __future__ import annotations

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def burn(ctx: click.Context, as_json: bool) -> None:
    """Cost per hour and per day, and runway where a balance is known.

    \b
    Example:
      tokendash burn --json
    """
    from tokendash.cli.client import call_method

    result = call_method(ctx, "token-dashboard.burn", {"format": "json" if as_json else "text"})
    if as_json:
        from tokendash.cli import emit_json

        emit_json(result)
    else:
        click.echo(result["text"])
