"""``tokendash server-status``: the combined report of the oc-server-status prior art (SPEC §7)."""

from __future__ import annotations

import click

from tokendash.cli import emit_json


@click.command("server-status")
@click.option("--now", "now_flag", is_flag=True, help="Build the report now (the only mode; kept from oc-server-status).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--verbose", "-v", is_flag=True, help="Also list each provider's models, Ollama models and every sensor.")
@click.pass_context
def server_status(ctx: click.Context, now_flag: bool, fmt: str, verbose: bool) -> None:
    """Host health, this month's tokens and cost by provider and model in the display currency
    (TOKENDASH_CURRENCY, converted with TOKENDASH_FX), budget remaining and recommendations.

    \b
    Example:
      tokendash server-status --now
      TOKENDASH_CURRENCY=EUR TOKENDASH_FX=EUR=1.08 tokendash server-status --now --format json
    """
    from tokendash.cli import make_app
    from tokendash.health import server_status as build

    report = build(make_app(ctx))
    if fmt == "json":
        emit_json(report)
    else:
        from tokendash.health.text import render_server_status

        click.echo(render_server_status(report, verbose))
