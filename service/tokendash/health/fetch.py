"""Parallel GETs with one deadline, for the service probes.

Every request runs in its own daemon thread; the caller waits at most ``timeout`` seconds in total, so a
dead port, a port that accepts and never answers, and a slow service cost the same bounded time and do
not delay each other. A thread still blocked after the deadline is abandoned (its own socket timeout
ends it shortly after) and never holds up the process's exit.

Errors are short reasons (``connection refused``, ``no answer within 1 s``, ``HTTP 503``, ``not
JSON``): never a raw body, never a header (a probe may carry a token).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit


@dataclass(frozen=True)
class Request:
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Response:
    ok: bool
    body: Any = None
    error: str | None = None
    status: int | None = None
    ms: float | None = None


def public_url(url: str) -> str:
    """The URL without user, password, query or fragment, safe to show."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _reason(exc: BaseException, timeout: float) -> str:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, httpx.ConnectError):
        cause = exc.__cause__ or exc.__context__
        text = str(exc).lower()
        if isinstance(cause, ConnectionRefusedError) or "refused" in text:
            return "connection refused"
        if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
            return "unknown host"
        return "cannot connect"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "invalid URL"
    if isinstance(exc, httpx.HTTPError):
        return f"request failed ({type(exc).__name__})"
    return f"probe failed ({type(exc).__name__})"


def _get(req: Request, timeout: float) -> Response:
    import httpx

    start = time.monotonic()
    try:
        # trust_env=False: a proxy from the environment must not intercept loopback services.
        with httpx.Client(timeout=timeout, trust_env=False, follow_redirects=False) as client:
            r = client.get(req.url, headers=dict(req.headers))
    except Exception as e:  # every failure becomes a reason; a probe never raises
        return Response(False, error=_reason(e, timeout))
    ms = round((time.monotonic() - start) * 1000, 1)
    if r.status_code >= 300:  # redirects are not followed: a probe asks the service itself
        return Response(False, error=f"HTTP {r.status_code}", status=r.status_code, ms=ms)
    try:
        body = r.json()
    except ValueError:
        return Response(False, error="answer is not JSON", status=r.status_code, ms=ms)
    return Response(True, body=body, status=r.status_code, ms=ms)


def fetch_all(requests: Mapping[str, Request], timeout: float) -> dict[str, Response]:
    """GET every request at once; whatever has not answered after ``timeout`` seconds is an error."""
    results: dict[str, Response] = {}
    lock = threading.Lock()

    def run(key: str, req: Request) -> None:
        res = _get(req, timeout)
        with lock:
            results[key] = res

    threads = [threading.Thread(target=run, args=(k, r), daemon=True, name=f"probe-{k}") for k, r in requests.items()]
    deadline = time.monotonic() + timeout
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    with lock:
        done = dict(results)
    return {k: done.get(k) or Response(False, error=f"no answer within {timeout:g} s") for k in requests}


def json_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)
