"""The web dashboard (SPEC §11): the page at ``/``, its static files and the GET endpoints it reads.

    GET /, /index.html   the page (the current dashboard and the 30-day series are in it, as JSON data)
    GET /app.js, /style.css, /favicon.svg   (no auth: the project's own code, no data in it)
    GET /api/cached      the DashboardSummary, as ``token-dashboard.cached`` returns it (from memory)
    GET /api/usage       ``token-dashboard.usage`` with query parameters (since, until, groupBy, ...)
    GET /api/health      ``token-dashboard.health`` (shared for a few seconds between callers)

Everything is GET/HEAD with relative URLs, so the same page works at ``/`` and behind the OpenClaw
plugin's ``/plugins/token-dashboard/`` route, whose frame grant only passes GET and HEAD.

Auth (SPEC §13; the token never appears in a page or a script):

* ``Authorization: Bearer <token>``: the plugin's proxy, or any script. Trusted as on ``/rpc``.
* ``GET /?token=<token>``: accepted once. The answer is a 303 to the same page without the token,
  setting an HttpOnly, SameSite=Strict cookie that holds a value derived from the token (an HMAC, so
  the cookie is not the token, stays valid across restarts, and dies when the token changes).
* The cookie: the page and its endpoints; never ``/rpc``, ``/metrics`` or ``/readyz``.
* Nothing: a small page saying how to open the dashboard (401).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from tokendash.api.codec import dumps
from tokendash.errors import InvalidParams, TokendashError
from tokendash.server.auth import bearer_ok

log = logging.getLogger("tokendash.server")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

WEB_DIR = Path(__file__).resolve().parent.parent / "render" / "web"
STATIC = {
    "/app.js": ("app.js", b"text/javascript; charset=utf-8"),
    "/style.css": ("style.css", b"text/css; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", b"image/svg+xml"),
}
PAGES = ("/", "/index.html")
API = ("/api/cached", "/api/usage", "/api/health")

POLL_SECONDS = 5  # the page asks for api/cached this often
HEALTH_MAX_AGE = 10.0  # api/health answers from a shared reading at most this old
HEALTH_PAGE_WAIT = 0.5  # the page waits this long for a first reading, else it comes without one
SESSION_MAX_AGE = 30 * 24 * 3600
_SESSION_INFO = b"tokendash web session v1"

# Only this origin's own files; no inline script; data: images for the favicon. No frame-ancestors:
# the Control UI frames the page from the gateway's origin, which is not this one.
CSP = (b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       b"font-src 'self'; base-uri 'none'; form-action 'none'")
_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", CSP),
]
_NO_STORE = (b"cache-control", b"no-store")
_HTML = b"text/html; charset=utf-8"
_JSON = b"application/json"

USAGE_PARAMS = ("scope", "since", "until", "timezone", "groupBy", "limit")
USAGE_FILTERS = ("provider", "model", "source", "agent", "project", "host")


def session_value(token: bytes) -> str:
    """The cookie's value: derived from the token, never the token itself."""
    import base64

    mac = hmac.new(token, _SESSION_INFO, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def dashboard_url(settings: Any, token: str) -> str:
    """The URL that opens the dashboard in a browser (the token is dropped from it at the first load)."""
    from urllib.parse import quote

    base = (settings.url or f"http://{settings.http_addr}").rstrip("/")
    return f"{base}/?token={quote(token, safe='')}"


def _json_for_html(body: bytes) -> bytes:
    """JSON that cannot end the <script type="application/json"> element it sits in (``<`` only occurs
    inside JSON strings, where the escape means the same character)."""
    return body.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")


def _escape(s: str) -> str:
    import html

    return html.escape(s, quote=True)


class WebApp:
    def __init__(self, dispatcher: Any, token: bytes) -> None:
        self.dispatcher = dispatcher
        self.token = token
        self.session = session_value(token).encode()
        self._static: dict[str, tuple[bytes, bytes, bytes]] = {}
        for route, (name, ctype) in STATIC.items():
            body = (WEB_DIR / name).read_bytes()
            etag = b'"' + hashlib.sha256(body).hexdigest()[:20].encode() + b'"'
            self._static[route] = (body, ctype, etag)
        self._template = (WEB_DIR / "index.html").read_text(encoding="utf-8")
        self._health: tuple[float, bytes] | None = None
        self._health_task: asyncio.Future[bytes] | None = None

    # -- routing ----------------------------------------------------------------------------------

    def handles(self, path: str) -> bool:
        return path in PAGES or path in STATIC or path in API

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        method = scope["method"]
        head = method == "HEAD"
        if method not in ("GET", "HEAD"):
            await self._send(send, 405, b'{"error":"use GET"}', _JSON, head, (b"allow", b"GET, HEAD"))
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        if path in PAGES and any(k == "token" for k, _ in query):
            await self._token_login(scope, send, path, query, head)
            return
        if path in STATIC:  # the page's own code and style: no data in them, and the sign-in page uses them
            await self._static_file(scope, send, path, head)
            return
        if not self._authorized(scope):
            if path in PAGES:
                await self._send(send, 401, self._login_page(scope), _HTML, head, _NO_STORE)
            else:
                await self._send(send, 401, b'{"error":"unauthorized: open the dashboard with its token, '
                                 b'or send Authorization: Bearer <token>"}', _JSON, head, _NO_STORE,
                                 (b"www-authenticate", b"Bearer"))
            return
        if path in PAGES:
            await self._send(send, 200, await self._page(), _HTML, head, _NO_STORE)
        elif path == "/api/cached":
            await self._cached(scope, send, head)
        elif path == "/api/usage":
            await self._usage(send, query, head)
        else:
            await self._health_endpoint(send, head)

    # -- auth -------------------------------------------------------------------------------------

    def _cookie_name(self, scope: Scope) -> bytes:
        # Cookies are not kept apart by port: two sidecars on one host each get their own name.
        server = scope.get("server") or ("", 0)
        return b"tokendash_" + str(server[1] or 0).encode()

    def _authorized(self, scope: Scope) -> bool:
        name = self._cookie_name(scope) + b"="
        for k, v in scope["headers"]:
            if k == b"authorization":
                if bearer_ok(v, self.token):
                    return True
            elif k == b"cookie":
                for part in v.split(b";"):
                    part = part.strip()
                    if part.startswith(name) and hmac.compare_digest(part[len(name):], self.session):
                        return True
        return False

    async def _token_login(self, scope: Scope, send: Send, path: str, query: list[tuple[str, str]],
                           head: bool) -> None:
        given = next(v for k, v in query if k == "token").strip().encode()
        if not hmac.compare_digest(given, self.token):
            await self._send(send, 401, self._login_page(scope, rejected=True), _HTML, head, _NO_STORE)
            return
        rest = [(k, v) for k, v in query if k != "token"]
        # Relative, so it also holds behind a proxy that mounts the sidecar under a prefix.
        location = ("./" if path == "/" else path.rsplit("/", 1)[-1]) + (f"?{urlencode(rest)}" if rest else "")
        cookie = (self._cookie_name(scope) + b"=" + self.session
                  + f"; Path=/; Max-Age={SESSION_MAX_AGE}; HttpOnly; SameSite=Strict".encode())
        if scope.get("scheme") == "https":
            cookie += b"; Secure"
        await self._send(send, 303, b"", _HTML, head, _NO_STORE, (b"location", location.encode()),
                         (b"set-cookie", cookie))

    def _login_page(self, scope: Scope, rejected: bool = False) -> bytes:
        server = scope.get("server") or ("127.0.0.1", 18790)
        host = server[0] if ":" not in str(server[0]) else f"[{server[0]}]"
        base = f"http://{host}:{server[1]}/"
        if rejected:
            lead = "That token is not this sidecar's token. Nothing was opened."
        else:
            lead = "This is the tokendash dashboard. It opens with the sidecar's token, once; after that a cookie keeps you in."
        body = LOGIN_PAGE.format(lead=_escape(lead), url=_escape(base + "?token=…"),
                                 cmd=_escape(f'xdg-open "{base}?token=$(cat ~/.local/state/tokendash/token)"'))
        return body.encode()

    # -- responses --------------------------------------------------------------------------------

    async def _send(self, send: Send, status: int, body: bytes, ctype: bytes, head: bool,
                    *extra: tuple[bytes, bytes]) -> None:
        headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode()), *_COMMON, *extra]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})

    async def _static_file(self, scope: Scope, send: Send, path: str, head: bool) -> None:
        body, ctype, etag = self._static[path]
        for k, v in scope["headers"]:
            if k == b"if-none-match" and etag in v:
                headers = [(b"etag", etag), (b"cache-control", b"no-cache"), *_COMMON]
                await send({"type": "http.response.start", "status": 304, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                return
        await self._send(send, 200, body, ctype, head, (b"etag", etag), (b"cache-control", b"no-cache"))

    def _snapshot(self) -> Any:
        cache = getattr(self.dispatcher.ctx, "cache", None)
        return cache.snapshot if cache is not None else None

    async def _cached(self, scope: Scope, send: Send, head: bool) -> None:
        snap = self._snapshot()
        if snap is None:
            await self._send(send, 503, dumps({"error": "starting", "message": _starting_message()}), _JSON, head,
                             _NO_STORE, (b"retry-after", b"1"))
            return
        etag = f'"{snap.version}-{int(snap.built * 1000)}"'.encode()
        for k, v in scope["headers"]:
            if k == b"if-none-match" and v == etag:
                headers = [(b"etag", etag), (b"cache-control", b"no-cache"), *_COMMON]
                await send({"type": "http.response.start", "status": 304, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                return
        await self._send(send, 200, snap.json.json, _JSON, head, (b"etag", etag), (b"cache-control", b"no-cache"))

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.dispatcher.executor, fn, *args)

    async def _usage(self, send: Send, query: list[tuple[str, str]], head: bool) -> None:
        from tokendash.api.methods import METHODS

        params: dict[str, Any] = {}
        filters: dict[str, list[str]] = {}
        for k, v in query:
            if k in USAGE_FILTERS:
                filters.setdefault(k, []).extend(x for x in v.split(",") if x)
            elif k == "limit":
                if not v.isdigit():
                    await self._send(send, 400, dumps({"error": "invalid params: limit: must be an integer",
                                                       "field": "limit"}), _JSON, head, _NO_STORE)
                    return
                params["limit"] = int(v)
            elif k in USAGE_PARAMS:
                params[k] = v
            else:
                await self._send(send, 400, dumps({
                    "error": f"invalid params: {k[:64]}: unknown parameter; use "
                             f"{', '.join(USAGE_PARAMS + USAGE_FILTERS)}", "field": k[:64]}), _JSON, head, _NO_STORE)
                return
        if filters:
            params["filters"] = filters
        try:
            result = await self._run(METHODS["token-dashboard.usage"].handler, self.dispatcher.ctx, params)
        except InvalidParams as e:
            await self._send(send, 400, dumps({"error": f"invalid params: {e}", "field": e.field}), _JSON, head,
                             _NO_STORE)
            return
        except TokendashError as e:  # store or config trouble: its message is written to be shown
            await self._send(send, 503, dumps({"error": str(e)}), _JSON, head, _NO_STORE)
            return
        except Exception:
            log.exception("api/usage failed")
            await self._send(send, 500, b'{"error":"internal error"}', _JSON, head, _NO_STORE)
            return
        await self._send(send, 200, dumps(result), _JSON, head, _NO_STORE)

    async def _health_endpoint(self, send: Send, head: bool) -> None:
        try:
            body = await self.health_json()
        except Exception as e:  # health never breaks the page; say why it is missing
            await self._send(send, 503, dumps({"error": f"host health unavailable: {type(e).__name__}"}), _JSON,
                             head, _NO_STORE)
            return
        await self._send(send, 200, body, _JSON, head, _NO_STORE)

    async def health_json(self) -> bytes:
        """One reading shared by every caller for ``HEALTH_MAX_AGE`` seconds (it probes services)."""
        now = time.monotonic()
        if self._health is not None and now - self._health[0] < HEALTH_MAX_AGE:
            return self._health[1]
        if self._health_task is None or self._health_task.done():
            from tokendash.api.methods import METHODS

            async def read() -> bytes:
                value = await self._run(METHODS["token-dashboard.health"].handler, self.dispatcher.ctx, {})
                body = dumps(value)
                self._health = (time.monotonic(), body)
                return body

            self._health_task = asyncio.ensure_future(read())
        return await asyncio.shield(self._health_task)

    async def _health_for_page(self) -> bytes | None:
        """The last reading (refreshed in the background when old); the first one is waited for briefly.
        A page in a frame that cannot read api/health gets the host's health this way."""
        if self._health is not None and time.monotonic() - self._health[0] < HEALTH_MAX_AGE:
            return self._health[1]
        task = asyncio.ensure_future(self.health_json())
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # a failure is only a missing strip
        if self._health is not None:
            return self._health[1]
        try:
            return await asyncio.wait_for(asyncio.shield(task), HEALTH_PAGE_WAIT)
        except Exception:
            return None

    async def _page(self) -> bytes:
        """The page with the current dashboard and the 30-day series in it: the first paint needs no
        request, and a frame that cannot read api/* (an opaque sandbox) still shows current data."""
        ctx = self.dispatcher.ctx
        snap = self._snapshot()
        parts = [b'{"cached":', snap.json.json if snap is not None else b"null"]
        if snap is not None:
            try:
                from tokendash.api.methods import METHODS

                usage = await self._run(METHODS["token-dashboard.usage"].handler, ctx,
                                        {"since": "30d", "groupBy": ["day", "provider"]})
                parts += [b',"usage":', dumps(usage)]
            except Exception:  # the page still shows the summary; the chart asks api/usage itself
                log.exception("the 30-day series for the page failed")
        health = await self._health_for_page()
        if health is not None:
            parts += [b',"health":', health]
        parts.append(b"}")
        app = ctx.app
        try:
            from tokendash.health.fx import Money

            usd_per_unit = str(Money.display(app.settings.currency, app.settings.fx).usd_per_unit)
        except Exception:  # a currency without a rate: the page shows USD and says so
            usd_per_unit = ""
        page = self._template.replace("{{timezone}}", _escape(app.timezone)).replace(
            "{{currency}}", _escape((app.settings.currency or "USD").upper())
        ).replace("{{usdPerUnit}}", _escape(usd_per_unit)).replace("{{pollSeconds}}", str(POLL_SECONDS))
        head, _, tail = page.encode().partition(b"{{data}}")
        return head + _json_for_html(b"".join(parts)) + tail


def _starting_message() -> str:
    from tokendash.server.runtime import WARMING_UP

    return WARMING_UP


LOGIN_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>tokendash: sign in</title>
<link rel="stylesheet" href="style.css">
</head>
<body class="login">
<main class="login-box">
<h1>tokendash</h1>
<p>{lead}</p>
<h2>Open it</h2>
<ol>
<li>Find the token: <code>cat ~/.local/state/tokendash/token</code> (or <code>$TOKENDASH_HOME/token</code>;
it is <code>TOKENDASH_TOKEN</code> when that is set).</li>
<li>Open <code>{url}</code> with the token after <code>token=</code>. The token leaves the address bar at once.</li>
</ol>
<p>In one go: <code>{cmd}</code></p>
<p>Under OpenClaw, open the Control UI and pick the <b>Tokens</b> tab instead: the gateway signs you in.</p>
</main>
</body>
</html>
"""
