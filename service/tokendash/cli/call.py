"""``tokendash call``: one raw method call, printed as JSON (the sidecar when it answers, else in-process)."""

from __future__ import annotations

import click

from tokendash.cli import emit_json


@click.command()
@click.argument("method")
@click.option("--params", "params_json", default="{}", show_default=True, help="The params object, as JSON.")
@click.pass_context
def call(ctx: click.Context, method: str, params_json: str) -> None:
    """Call METHOD (``status`` is short for ``token-dashboard.status``) and print its result.

    \b
    Example:
      tokendash call status --params '{"format": "text"}'
      tokendash call token-dashboard.usage --params '{"groupBy": ["day", "model"], "since": "7d"}'
      tokendash call record --params '{"events": [{"idempotencyKey": "run-1", "provider": "openai", "model": "gpt-5", "input": 10}]}'
    """
    import json

    from tokendash.cli.client import call_method

    try:
        params = json.loads(params_json)
    except ValueError as e:
        raise click.BadParameter(f"not JSON: {e}", param_hint="--params") from e
    if not isinstance(params, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--params")
    from tokendash.api.methods import METHODS

    name = method if method.startswith("token-dashboard.") else f"token-dashboard.{method}"
    if name not in METHODS:
        raise click.BadParameter(f"unknown method; use {', '.join(sorted(METHODS))}", param_hint="METHOD")
    emit_json(call_method(ctx, name, params))
