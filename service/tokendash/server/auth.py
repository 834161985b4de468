"""The bearer token and the loopback rule (SPEC §8, §13).

The token is ``TOKENDASH_TOKEN`` when set, otherwise the one in ``$TOKENDASH_HOME/token``, generated at
the first start with mode 0600. The sidecar refuses to listen on a non-loopback address unless the
token was set explicitly (a generated file does not count: nobody has shared it on purpose).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from pathlib import Path

from tokendash.errors import ConfigError

TOKEN_FILE = "token"


def load_or_create_token(home: Path, explicit: str | None) -> str:
    if explicit:
        return explicit
    path = home / TOKEN_FILE
    try:
        existing = path.read_text().strip()
        if existing:
            return existing
    except FileNotFoundError:
        pass
    home.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    tmp = path.with_name(f".{TOKEN_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    try:
        os.link(tmp, path)  # atomic and never overwrites: two sidecars starting at once agree on one token
    except FileExistsError:
        token = path.read_text().strip()
    finally:
        tmp.unlink()
    return token


def split_addr(addr: str) -> tuple[str, int]:
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"{addr!r} is not HOST:PORT")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(addr: str, token_is_explicit: bool) -> tuple[str, int]:
    host, port = split_addr(addr)
    if not is_loopback(host) and not token_is_explicit:
        raise ConfigError(
            f"refusing to listen on {host} (not loopback) without an explicit token: set TOKENDASH_TOKEN"
        )
    return host, port


def bearer_ok(header: bytes | str | None, token_bytes: bytes) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time."""
    if not header:
        return False
    if isinstance(header, str):
        header = header.encode("latin-1", "replace")
    scheme, _, value = header.partition(b" ")
    return scheme.lower() == b"bearer" and hmac.compare_digest(value.strip(), token_bytes)
