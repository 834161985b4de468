"""The HTTP side (SPEC §8): a plain ASGI app served by uvicorn (httptools parser, uvloop loop).

    POST /rpc      JSON-RPC 2.0 (bearer token; bodies over 1 MiB get 413)
    GET  /healthz  liveness, no auth
    GET  /readyz   200 once the dashboard has been built from the store, else 503 (bearer token)
    GET  /metrics  Prometheus text (bearer token)
    GET  /, /app.js, /style.css, /favicon.svg, /api/*   the web dashboard (``tokendash.server.web``)

No web framework sits on the hot path: ``cached`` is one dict lookup and a byte concatenation away from
the socket.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tokendash.server.auth import bearer_ok
from tokendash.server.jsonrpc import UNAUTHORIZED, Dispatcher, error
from tokendash.server.web import WebApp

MAX_BODY = 1024 * 1024

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_JSON = (b"content-type", b"application/json")
_UNAUTHORIZED = error(None, UNAUTHORIZED, "unauthorized: send Authorization: Bearer <token>")
_TOO_LARGE = b'{"error":"request body over 1 MiB"}'


async def respond(send: Send, status: int, body: bytes, *extra: tuple[bytes, bytes]) -> None:
    headers = [_JSON, (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None when it is over ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            return b""
        chunk = msg.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not msg.get("more_body"):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class HttpApp:
    def __init__(self, dispatcher: Dispatcher, token: str, ready: Callable[[], bool]) -> None:
        self.dispatcher = dispatcher
        self.token = token.encode()
        self.ready = ready
        self.web = WebApp(dispatcher, self.token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        method = scope["method"]
        if path == "/rpc":
            if method != "POST":
                await respond(send, 405, b'{"error":"use POST"}', (b"allow", b"POST"))
                return
            await self.rpc(scope, receive, send)
        elif path == "/healthz" and method in ("GET", "HEAD"):
            await respond(send, 200, b'{"status":"ok"}')
        elif path == "/metrics" and method == "GET":
            await self.metrics(scope, send)
        elif path == "/readyz" and method in ("GET", "HEAD"):
            if not self._authorized(scope):
                await respond(send, 401, _UNAUTHORIZED, (b"www-authenticate", b"Bearer"))
            elif self.ready():
                await respond(send, 200, b'{"ready":true}')
            else:
                await respond(send, 503, b'{"ready":false,"reason":"building the dashboard from the store"}')
        elif self.web.handles(path):
            await self.web(scope, receive, send)
        else:
            await respond(send, 404, b'{"error":"not found"}')

    async def metrics(self, scope: Scope, send: Send) -> None:
        import asyncio

        from tokendash.errors import Unavailable
        from tokendash.server.metrics import collect

        if not self._authorized(scope):
            await respond(send, 401, _UNAUTHORIZED, (b"www-authenticate", b"Bearer"))
            return
        d = self.dispatcher
        try:
            body = await asyncio.get_running_loop().run_in_executor(d.executor, collect, d.ctx)
        except Unavailable:
            await respond(send, 503, b'{"ready":false}')
            return
        headers = [(b"content-type", b"text/plain; version=0.0.4; charset=utf-8"),
                   (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _authorized(self, scope: Scope) -> bool:
        for k, v in scope["headers"]:
            if k == b"authorization":
                return bearer_ok(v, self.token)
        return False

    async def rpc(self, scope: Scope, receive: Receive, send: Send) -> None:
        auth = length = None
        for k, v in scope["headers"]:
            if k == b"authorization":
                auth = v
            elif k == b"content-length":
                length = v
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            await respond(send, 413, _TOO_LARGE, (b"connection", b"close"))
            return
        if not bearer_ok(auth, self.token):
            await respond(send, 401, _UNAUTHORIZED, (b"www-authenticate", b"Bearer"))
            return
        body = await read_body(receive, MAX_BODY)
        if body is None:
            await respond(send, 413, _TOO_LARGE, (b"connection", b"close"))
            return
        out = await self.dispatcher.handle(body)
        if out is None:  # only notifications
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        else:
            await respond(send, 200, out)
