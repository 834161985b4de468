"""``tokendash providers``: each provider API, whether a key was found (shown as a hint only), what it
can report, when it last answered, and its error. In-process on the store (``--refresh`` polls first)."""

from __future__ import annotations

from typing import Any

import click

from tokendash.cli import emit_json, make_app
from tokendash.render.text import render_providers


def _reconcile_lines(rec: dict[str, Any]) -> list[str]:
    lines = ["", "Billed vs attributed (USD, UTC days):"]
    for p in rec["providers"]:
        for name, r in p["periods"].items():
            billed = "n/a" if r["billedUsd"] is None else f"{r['billedUsd']:.4f}"
            gap = "" if r["differenceUsd"] is None else f"  gap {r['differenceUsd']:+.4f}"
            lines.append(f"  {p['providerId']:<11} {name:<10} billed {billed:>10}  local {r['estimatedUsd']:.4f}{gap}"
                         f"  spend {r['spendUsd']:.4f} ({r['spendBasis']})")
    return lines


@click.command()
@click.option("--refresh", is_flag=True, help="Poll the provider APIs first.")
@click.option("--reconcile", "with_reconcile", is_flag=True, help="Also show billed vs locally attributed spend.")
@click.option("--json", "as_json", is_flag=True, help="Print {providers: [ProviderInfo]} (and reconcile) as JSON.")
@click.pass_context
def providers(ctx: click.Context, refresh: bool, with_reconcile: bool, as_json: bool) -> None:
    """Provider billing APIs: keys found, capabilities, last success and errors.

    \b
    Keys: OPENAI_ADMIN_KEY, ANTHROPIC_ADMIN_KEY, OPENROUTER_API_KEY, OPENROUTER_MANAGEMENT_KEY,
    MOONSHOT_API_KEY, DEEPSEEK_API_KEY (or the OpenClaw config). Example:
      tokendash providers
      tokendash providers --refresh --reconcile --json
    """
    from tokendash import providers as prov

    app = make_app(ctx)
    failed = False
    if refresh:
        for r in prov.poll(app):
            if not r.ok:
                failed = True
                click.echo(f"{r.source}: {r.error}", err=True)
    result: dict[str, Any] = {"providers": prov.provider_infos(app)}
    if with_reconcile:
        result["reconcile"] = prov.reconcile(app)
    if as_json:
        emit_json(result)
    else:
        click.echo(render_providers(result["providers"]))
        if with_reconcile:
            click.echo("\n".join(_reconcile_lines(result["reconcile"])))
    if failed:
        ctx.exit(1)
