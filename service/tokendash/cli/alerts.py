"""``tokendash alerts``: open alerts (or all, with resolved ones)."""

from __future__ import annotations

import click


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Resolved alerts too.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the token-dashboard.alerts result.")
@click.option("--deliveries", is_flag=True,
              help="Show the webhook outbox instead: counts by state and the latest deliveries (from the store).")
@click.pass_context
def alerts(ctx: click.Context, show_all: bool, limit: int, as_json: bool, deliveries: bool) -> None:
    """Budget, balance, spend, source, runaway and health alerts, with when each was first and last seen.

    \b
    Example:
      tokendash alerts
      tokendash alerts --all --json
      tokendash alerts --deliveries
    """
    if deliveries:
        _deliveries(ctx, limit, as_json)
        return
    from tokendash.cli.client import call_method

    result = call_method(ctx, "token-dashboard.alerts", {"state": "all" if show_all else "open", "limit": limit})
    if as_json:
        from tokendash.cli import emit_json

        emit_json(result)
        return
    from tokendash.render.text import render_alerts

    click.echo(render_alerts(result["alerts"], show_all))


def _deliveries(ctx: click.Context, limit: int, as_json: bool) -> None:
    """The outbox: what was sent to which webhook (named by scheme and host only), what waits, what failed."""
    from tokendash.accounting.summary import iso
    from tokendash.cli import make_app
    from tokendash.outbox import deliveries, webhook_hint, webhooks_by_key

    app = make_app(ctx)
    hooks = webhooks_by_key(app.settings.webhooks)
    got = deliveries(app.store.engine, limit)
    rows = []
    for r in got["rows"]:
        w = hooks.get(r.webhook)
        rows.append({
            "id": r.id, "webhook": f"{w.format} {webhook_hint(w.url)}" if w else "(no longer configured)",
            "kind": r.kind, "alertId": r.alert_id, "transition": r.transition, "state": r.state,
            "attempts": r.attempts, "created": iso(r.created_ms), "delivered": iso(r.delivered_ms),
            "nextAttempt": iso(r.next_attempt_ms) if r.state == "pending" else None, "lastError": r.last_error,
        })
    if as_json:
        from tokendash.cli import emit_json

        emit_json({"counts": got["counts"], "deliveries": rows})
        return
    if not rows:
        click.echo("No deliveries." if hooks else "No deliveries (no webhooks configured).")
        return
    click.echo("Deliveries: " + ", ".join(f"{n} {k}" for k, n in sorted(got["counts"].items())))
    for d in rows:
        what = f"{d['alertId']} {d['transition']}" if d["kind"] == "alert" else d["kind"]
        when = d["delivered"] or d["nextAttempt"] or d["created"]
        line = f"{d['state']:<9} {what} → {d['webhook']} ({d['attempts']} attempt(s), {when})"
        if d["lastError"] and d["state"] != "delivered":
            line += f": {d['lastError']}"
        click.echo(line)
