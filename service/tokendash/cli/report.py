"""``tokendash report``: usage by day, week, month or session, as a table, JSON or CSV."""

from __future__ import annotations

import click

from tokendash.cli import emit_json

KINDS = {"daily": ["day"], "weekly": ["week"], "monthly": ["month"], "session": ["session", "project"]}


def _csv_list(values: tuple[str, ...]) -> list[str]:
    return [x.strip() for v in values for x in v.split(",") if x.strip()]


@click.command()
@click.argument("kind", type=click.Choice(list(KINDS)), default="daily")
@click.option("--since", help="First day, YYYY-MM-DD or YYYYMMDD (inclusive, in --tz).")
@click.option("--until", help="Last day, YYYY-MM-DD or YYYYMMDD (inclusive, in --tz).")
@click.option("--tz", "tz", help="IANA time zone for day boundaries (default: settings, else the system's).")
@click.option("--by", "by", multiple=True, help="Extra breakdown: provider, model, source, agent, project, session, host (comma-separated or repeated).")
@click.option("--provider", multiple=True, help="Only these providers.")
@click.option("--model", multiple=True, help="Only these models.")
@click.option("--agent", multiple=True, help="Only these agents.")
@click.option("--project", multiple=True, help="Only these projects.")
@click.option("--source", multiple=True, help="Only these sources (claude-code, codex, openclaw, record, …).")
@click.option("--host", multiple=True, help="Only these hosts.")
@click.option("--json", "as_json", is_flag=True, help="Print the token-dashboard.usage result as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.pass_context
def report(ctx: click.Context, kind: str, since: str | None, until: str | None, tz: str | None,
           by: tuple[str, ...], provider: tuple[str, ...], model: tuple[str, ...], agent: tuple[str, ...],
           project: tuple[str, ...], source: tuple[str, ...], host: tuple[str, ...], as_json: bool,
           as_csv: bool) -> None:
    """Tokens and cost from the store, grouped by a time grain or by session.

    \b
    Example:
      tokendash report daily --since 2026-11-01 --by model
      tokendash report monthly --source claude-code --json
      tokendash report session --csv > sessions.csv
    """
    if as_json and as_csv:
        raise click.UsageError("--json and --csv are mutually exclusive")
    filters = {k: _csv_list(v) for k, v in (("provider", provider), ("model", model), ("agent", agent),
                                             ("project", project), ("source", source), ("host", host)) if v}
    params = {"groupBy": KINDS[kind] + _csv_list(by), "filters": filters}
    if since:
        params["since"] = since
    if until:
        params["until"] = until
    if tz:
        params["timezone"] = tz
    from tokendash.cli.client import call_method

    result = call_method(ctx, "token-dashboard.usage", params)
    if as_json:
        emit_json(result)
    elif as_csv:
        from tokendash.render.tables import render_csv

        click.echo(render_csv(result), nl=False)
    else:
        from tokendash.render.tables import render_table

        click.echo(render_table(result))
