"""How a CLI command gets a method result: from the running sidecar when one answers, otherwise
in-process on the store through the same methods table, so the output is the same either way.

This is the start-up path of every read command, so it imports only the standard library until it
knows that no sidecar answers. That is also why the three values it needs are read here rather than
through ``config.settings`` (pydantic-settings alone costs more than a whole sidecar round trip), with
the same precedence: environment (``TOKENDASH_URL``, ``TOKENDASH_HTTP_ADDR``, ``TOKENDASH_TOKEN``,
``TOKENDASH_HOME``) → ``$TOKENDASH_HOME/config.toml`` (``url``, ``httpAddr``, ``token``) → defaults, and the
generated ``$TOKENDASH_HOME/token``. ``--database-url`` means "this store", so it always works in-process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

CONNECT_TIMEOUT = 0.5
READ_TIMEOUT = 120.0


class NoSidecar(Exception):
    """Nothing usable answered at the sidecar's address."""


def _home() -> Path:
    return Path(os.environ.get("TOKENDASH_HOME") or "~/.local/state/tokendash").expanduser()


def _config(home: Path) -> Mapping[str, Any]:
    path = home / "config.toml"
    if not path.is_file():
        return {}
    import tomllib

    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return {}  # the in-process path reports a broken config properly


def endpoint() -> tuple[str, str | None]:
    """``(url, token)`` of the sidecar, with the settings' precedence."""
    env = os.environ
    home = _home()
    cfg = _config(home)
    url = env.get("TOKENDASH_URL") or cfg.get("url")
    if not url:
        addr = env.get("TOKENDASH_HTTP_ADDR") or cfg.get("httpAddr") or cfg.get("http_addr") or "127.0.0.1:18790"
        host, _, port = str(addr).rpartition(":")
        host = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]", "": "127.0.0.1"}.get(host, host)  # a wildcard is not an address
        url = f"http://{host}:{port}"
    token = env.get("TOKENDASH_TOKEN") or cfg.get("token")
    if not token:
        try:
            token = (home / "token").read_text().strip() or None
        except OSError:
            token = None
    return str(url), token


def call_sidecar(url: str, token: str | None, method: str, params: Mapping[str, Any]) -> Any:
    """One JSON-RPC call; ``NoSidecar`` when nothing (ready) answers there."""
    import http.client
    import json
    import socket
    from urllib.parse import urlsplit

    from tokendash.errors import InvalidParams, TokendashError

    u = urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise NoSidecar(f"not an HTTP URL: {url}")
    cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
    conn = cls(u.hostname, u.port or (443 if u.scheme == "https" else 80), timeout=CONNECT_TIMEOUT)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": dict(params)}).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.connect()
        conn.sock.settimeout(READ_TIMEOUT)
        # http.client writes headers and body separately: without this, Nagle + delayed ACK cost 40 ms.
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.request("POST", (u.path.rstrip("/") or "") + "/rpc", body, headers)
        resp = conn.getresponse()
        data = resp.read()
    except (OSError, http.client.HTTPException) as e:
        raise NoSidecar(f"{url}: {type(e).__name__}") from e
    finally:
        conn.close()
    if resp.status == 401:
        raise TokendashError(f"the sidecar at {url} refused the token (set TOKENDASH_TOKEN or check $TOKENDASH_HOME/token)")
    if resp.status != 200:
        raise NoSidecar(f"{url}: HTTP {resp.status}")
    try:
        msg = json.loads(data)
    except ValueError as e:
        raise NoSidecar(f"{url}: not JSON-RPC") from e
    err = msg.get("error") if isinstance(msg, dict) else None
    if err:
        code = err.get("code")
        if code == -32002:  # still warming up: the store answers just as well
            raise NoSidecar(err.get("message", "unavailable"))
        if code == -32602:
            field = (err.get("data") or {}).get("field", "params")
            problem = str(err.get("message", "")).removeprefix("invalid params: ").removeprefix(f"{field}: ")
            raise InvalidParams(field, problem)
        raise TokendashError(str(err.get("message", "sidecar error")))
    return msg.get("result")


def call_local(ctx: click.Context, method: str, params: Mapping[str, Any]) -> Any:
    from tokendash.api.context import LocalContext
    from tokendash.api.methods import METHODS
    from tokendash.cli import make_app

    m = METHODS.get(method)
    if m is None:
        raise click.UsageError(f"unknown method {method}; known: {', '.join(sorted(METHODS))}")
    result = m.handler(LocalContext(make_app(ctx)), params)
    return getattr(result, "value", result)  # an Encoded result carries its dict


def call_method(ctx: click.Context, method: str, params: Mapping[str, Any]) -> Any:
    obj = ctx.find_root().obj or {}
    if not obj.get("database_url"):
        url, token = endpoint()
        try:
            return call_sidecar(url, token, method, params)
        except NoSidecar:
            pass
    return call_local(ctx, method, params)
