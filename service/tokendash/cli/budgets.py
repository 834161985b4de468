"""``tokendash budgets``: each configured budget's spend this period against its limit."""

from __future__ import annotations

import click


def render_budgets(budgets: list[dict]) -> str:
    if not budgets:
        return "No budgets configured: add [[budgets]] to config.toml (see README, Configuration)."
    mark = {"ok": "✅", "warning": "🟡", "critical": "🔴", "exceeded": "⛔"}
    lines = []
    for b in budgets:
        scope = ", ".join(f"{k} {v}" for k, v in (b.get("scope") or {}).items()) or "everything"
        cur = b.get("currency", "")
        lines.append(
            f"{mark.get(b['state'], '•')} {b['id']} ({b['period']}, {scope}): {b['spent']:,.2f} of {b['limit']:,.2f} {cur}"
            f" = {b['percent']:.0f} %, {b['state']}; at this pace {b.get('projected', 0):,.2f} {cur} by {b.get('periodEnd')}"
        )
    return "\n".join(lines)


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
