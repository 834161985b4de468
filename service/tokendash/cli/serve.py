"""``tokendash serve``: the always-on sidecar (JSON-RPC over HTTP, gRPC, the scheduler)."""

from __future__ import annotations

import click

from tokendash.cli import make_app


@click.command()
@click.option("--http-addr", help="HOST:PORT for JSON-RPC and /healthz (default $TOKENDASH_HTTP_ADDR or 127.0.0.1:18790).")
@click.option("--grpc-addr", help="HOST:PORT for gRPC, or 'off' (default $TOKENDASH_GRPC_ADDR or 127.0.0.1:18791).")
@click.pass_context
def serve(ctx: click.Context, http_addr: str | None, grpc_addr: str | None) -> None:
    """Serve the dashboard until SIGTERM: every source on its own schedule, the dashboard in memory.

    The bearer token is $TOKENDASH_TOKEN, or the one generated into $TOKENDASH_HOME/token (mode 0600).
    A non-loopback address needs an explicit token.

    \b
    Example:
      tokendash serve
      tokendash serve --http-addr 127.0.0.1:0 --grpc-addr off
      tokendash call status --params '{"format": "text"}'
    """
    from tokendash.errors import TokendashError
    from tokendash.server.main import serve_forever

    app = make_app(ctx, http_addr=http_addr, grpc_addr=grpc_addr)
    try:
        rc = serve_forever(app)
    except TokendashError as e:
        raise click.ClickException(str(e)) from e
    except OSError as e:
        raise click.ClickException(f"cannot listen: {e}") from e
    ctx.exit(rc)
