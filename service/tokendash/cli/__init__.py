"""The ``tokendash`` command line (click). One module per command, loaded only when that command runs,
so ``tokendash report`` does not pay for importing what ``tokendash ingest`` needs.

Exit codes: 0 success, 1 error (message on stderr), 2 usage error.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

COMMANDS = {
    "ingest": "tokendash.cli.ingest:ingest",
    "report": "tokendash.cli.report:report",
    "status": "tokendash.cli.status:status",
    "doctor": "tokendash.cli.doctor:doctor",
    "serve": "tokendash.cli.serve:serve",
    "call": "tokendash.cli.call:call",
    "providers": "tokendash.cli.providers:providers",
    "burn": "tokendash.cli.burn:burn",
    "budgets": "tokendash.cli.budgets:budgets",
    "alerts": "tokendash.cli.alerts:alerts",
    "health": "tokendash.cli.health:health",
    "server-status": "tokendash.cli.server_status:server_status",
    "archive": "tokendash.cli.archive:archive",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.commands.keys() | {k for k in COMMANDS if _available(k)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = COMMANDS.get(cmd_name)
        if target is None or not _available(cmd_name):
            return None
        mod, _, attr = target.partition(":")
        return getattr(importlib.import_module(mod), attr)


def _available(name: str) -> bool:
    mod = COMMANDS[name].partition(":")[0]
    return importlib.util.find_spec(mod) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="openclaw-token-dashboard", prog_name="tokendash")
@click.option("--home", type=click.Path(file_okay=False), help="State directory (default $TOKENDASH_HOME or ~/.local/state/tokendash).")
@click.option("--database-url", help="Store URL (default sqlite:///$TOKENDASH_HOME/tokendash.db).")
@click.pass_context
def cli(ctx: click.Context, home: str | None, database_url: str | None) -> None:
    """tokendash: every token, dollar, balance and alert across your AI providers and agents.

    \b
    Example:
      tokendash ingest                 # read Claude Code, Codex and OpenClaw logs into the store
      tokendash report daily           # tokens and cost per day
      tokendash status                 # the dashboard in text
    """
    if home:
        import os

        os.environ["TOKENDASH_HOME"] = home  # the settings' toml source reads the home from here
    ctx.obj = {"database_url": database_url, "home": home}


def make_app(ctx: click.Context, **flags: Any) -> Any:
    """The in-process App with the global flags applied. Its settings are built on first use (a bad
    setting is a ``ConfigError``: a clean message and exit 1), so a plain read never pays for them."""
    from tokendash.app import App

    obj = ctx.find_root().obj or {}
    return App(flags={"database_url": obj.get("database_url"), **flags})


def emit_json(data: Any) -> None:
    import orjson

    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n")


def main() -> None:
    from tokendash.errors import InvalidParams, TokendashError

    try:
        rc = cli.main(standalone_mode=False)  # returns ctx.exit()'s code instead of exiting
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.UsageError as e:
        e.show()
        sys.exit(2)
    except click.ClickException as e:
        e.show()
        sys.exit(1)
    except InvalidParams as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(2)
    except TokendashError as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as e:  # never a stack trace for a user; TOKENDASH_DEBUG=1 shows it
        import os

        if os.environ.get("TOKENDASH_DEBUG"):
            raise
        click.echo(f"Error: internal error: {type(e).__name__}: {e}", err=True)
        sys.exit(1)
