"""``tokendash health``: the host and its services (SPEC §7)."""

from __future__ import annotations

import click

from tokendash.cli import emit_json


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the SystemHealth JSON.")
@click.option("--verbose", "-v", is_flag=True, help="Also list Ollama models, every sensor and the 5/15-minute load.")
@click.pass_context
def health(ctx: click.Context, as_json: bool, verbose: bool) -> None:
    """RAM, swap, CPU, disks, temperatures, uptime, Ollama, ChromaDB and the gateway, with a status light
    (HEALTHY, CAUTION, CRITICAL) and recommendations. Exit 0 whatever the light says.

    \b
    Example:
      tokendash health
      TOKENDASH_CHROMADB_URL=http://127.0.0.1:8000 tokendash health --json
    """
    from tokendash.api.methods import METHODS

    if "token-dashboard.health" in METHODS:  # the methods table (and a running sidecar) when it has it
        from tokendash.cli.client import call_method

        result = call_method(ctx, "token-dashboard.health", {})
    else:
        from tokendash.cli import make_app
        from tokendash.health import collect_health

        result = collect_health(make_app(ctx))
    if as_json:
        emit_json(result)
    else:
        from tokendash.health.text import render_health

        click.echo(render_health(result, verbose))
