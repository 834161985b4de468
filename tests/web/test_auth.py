"""The web dashboard's auth and endpoints over plain HTTP against a real sidecar (SPEC §11, §13): the
token in the query once, then a cookie that is not the token; the bearer header (the plugin's proxy);
a page that says how to get in; nothing of the token in any page; the GET endpoints equal the API."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sidecar.harness import RunningSidecar, make_app
from tokendash.server.web import dashboard_url, session_value

TOKEN = "web-auth-test-token-0123456789"


@pytest.fixture(scope="module")
def sidecar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSidecar]:
    tmp = tmp_path_factory.mktemp("web-auth")
    app = make_app(tmp, token=TOKEN, ollama_url="http://127.0.0.1:9", gateway_url="http://127.0.0.1:9",
                   budgets=[{"id": "monthly-all", "period": "monthly", "limit": 100}])
    running = RunningSidecar(app).start()
    deadline = time.monotonic() + 20
    while running.get("/readyz", TOKEN)[0] != 200:
        assert time.monotonic() < deadline, "the dashboard was never built"
        time.sleep(0.05)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    running.rpc("token-dashboard.record", {"events": [
        {"idempotencyKey": "a1", "timestamp": now, "provider": "openai", "model": "gpt-5", "input": 10,
         "output": 5, "costUsd": 0.5},
        # A model name that tries to end the page's data element: it must stay data.
        {"idempotencyKey": "a2", "timestamp": now, "provider": "openai", "model": "</script><script>alert(1)</script>",
         "input": 1, "output": 1, "costUsd": 0.25},
    ]})
    yield running
    running.stop()


def request(sc: RunningSidecar, path: str, headers: dict[str, str] | None = None,
            method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    assert sc.bound
    conn = http.client.HTTPConnection(*sc.bound.http, timeout=30)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        hdrs: dict[str, str] = {}
        for k, v in r.getheaders():
            hdrs[k.lower()] = f"{hdrs[k.lower()]}, {v}" if k.lower() in hdrs else v
        return r.status, hdrs, r.read()
    finally:
        conn.close()


def login(sc: RunningSidecar) -> str:
    """The ``Cookie`` header a browser sends after opening ``/?token=…``."""
    status, headers, _ = request(sc, f"/?token={TOKEN}")
    assert status == 303
    return headers["set-cookie"].split(";", 1)[0]


def test_the_token_in_the_query_becomes_a_cookie_and_leaves_the_url(sidecar: RunningSidecar) -> None:
    status, headers, body = request(sidecar, f"/?token={TOKEN}")
    assert status == 303 and body == b""
    assert headers["location"] == "./"  # the same page, without the token (relative: works under a prefix)
    cookie = headers["set-cookie"]
    attrs = [a.strip() for a in cookie.split(";")]
    name, _, value = attrs[0].partition("=")
    assert name == f"tokendash_{sidecar.bound.http[1]}"  # type: ignore[union-attr]
    assert value == session_value(TOKEN.encode()) and TOKEN not in cookie  # derived, not the token
    assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= set(attrs)
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "no-referrer"
    # Other query parameters survive the redirect; the token does not.
    status, headers, _ = request(sidecar, f"/index.html?x=1&token={TOKEN}&y=2")
    assert status == 303 and headers["location"] == "index.html?x=1&y=2"


def test_the_cookie_opens_the_page_and_its_endpoints(sidecar: RunningSidecar) -> None:
    cookie = login(sidecar)
    status, headers, body = request(sidecar, "/", {"Cookie": cookie})
    assert status == 200 and headers["content-type"].startswith("text/html")
    page = body.decode()
    assert TOKEN not in page and session_value(TOKEN.encode()) not in page  # never the token in the page
    assert '<script src="app.js"></script>' in page and 'href="style.css"' in page  # relative URLs only
    markup = page[:page.index('id="td-initial">')] + page[page.index("</script>", page.index('id="td-initial">')):]
    assert "http://" not in markup and "https://" not in markup and "//" not in markup  # the data is data
    status, _, body = request(sidecar, "/api/cached", {"Cookie": cookie})
    assert status == 200 and json.loads(body) == sidecar.rpc("token-dashboard.cached")
    # A cookie from elsewhere, or the token itself as a cookie, opens nothing.
    name = cookie.split("=", 1)[0]
    for bad in (f"{name}=x", f"{name}={TOKEN}", f"tokendash_1={session_value(TOKEN.encode())}"):
        assert request(sidecar, "/api/cached", {"Cookie": bad})[0] == 401
    # The cookie is for the web page only: the API and metrics still want the bearer token.
    status, _, _ = request(sidecar, "/metrics", {"Cookie": cookie})
    assert status == 401
    assert sidecar.post(b'{"jsonrpc":"2.0","id":1,"method":"token-dashboard.cached"}', token=None,
                        headers={"Cookie": cookie})[0] == 401


def test_without_credentials_a_page_says_how_to_open_it(sidecar: RunningSidecar) -> None:
    status, headers, body = request(sidecar, "/")
    assert status == 401 and headers["content-type"].startswith("text/html")
    text = body.decode()
    assert "token" in text and "~/.local/state/tokendash/token" in text and "Tokens" in text
    assert TOKEN not in text
    assert "set-cookie" not in headers
    status, headers, body = request(sidecar, f"/?token={TOKEN}x")
    assert status == 401 and "set-cookie" not in headers and b"is not this sidecar" in body
    for path in ("/api/cached", "/api/usage", "/api/health"):
        status, headers, body = request(sidecar, path)
        assert status == 401 and headers["content-type"] == "application/json", path
        assert "unauthorized" in json.loads(body)["error"]
    # /healthz stays open; /readyz stays behind the bearer token.
    assert request(sidecar, "/healthz")[0] == 200
    assert request(sidecar, "/readyz")[0] == 401


def test_the_bearer_header_is_trusted_as_the_plugin_sends_it(sidecar: RunningSidecar) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    status, headers, body = request(sidecar, "/", auth)
    assert status == 200 and TOKEN not in body.decode()
    assert "set-cookie" not in headers  # the proxy gets the page, no session
    assert request(sidecar, "/", {"Authorization": "Bearer nope"})[0] == 401
    status, _, body = request(sidecar, "/api/usage?since=30d&groupBy=day,provider", auth)
    assert status == 200
    assert json.loads(body) == sidecar.rpc("token-dashboard.usage", {"since": "30d", "groupBy": ["day", "provider"]})
    status, _, body = request(sidecar, "/api/usage?groupBy=model&provider=openai&limit=1", auth)
    want = sidecar.rpc("token-dashboard.usage", {"groupBy": ["model"], "filters": {"provider": ["openai"]}, "limit": 1})
    assert status == 200 and json.loads(body) == want
    status, _, body = request(sidecar, "/api/usage?groupBy=colour", auth)
    assert status == 400 and json.loads(body)["field"] == "groupBy"
    status, _, body = request(sidecar, "/api/usage?bogus=1", auth)
    assert status == 400 and json.loads(body)["field"] == "bogus"
    status, _, body = request(sidecar, "/api/health", auth)
    assert status == 200 and json.loads(body)["status"] in ("HEALTHY", "CAUTION", "CRITICAL", "UNKNOWN")
    status, _, body = request(sidecar, "/", auth, method="HEAD")
    assert status == 200 and body == b""
    assert request(sidecar, "/", auth, method="POST")[0] == 405


def test_security_headers_and_public_static_files(sidecar: RunningSidecar) -> None:
    _, headers, _ = request(sidecar, "/", {"Authorization": f"Bearer {TOKEN}"})
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "img-src 'self' data:" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors" not in csp  # the Control UI frames it
    assert headers["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in headers
    # The page's own code and style hold no data: served without auth (the sign-in page uses the style).
    for path, ctype in (("/app.js", "text/javascript"), ("/style.css", "text/css"), ("/favicon.svg", "image/svg+xml")):
        status, headers, body = request(sidecar, path)
        assert status == 200 and headers["content-type"].startswith(ctype), path
        assert TOKEN.encode() not in body
        etag = headers["etag"]
        assert request(sidecar, path, {"If-None-Match": etag})[0] == 304
    # No third-party code or remote origins in the page's files.
    for name in ("app.js", "style.css", "index.html"):
        text = (Path(__file__).resolve().parents[2] / "service/tokendash/render/web" / name).read_text()
        for marker in ("http://", "https://", "@import", "cdn", "googleapis"):
            if marker == "http://" and name == "app.js":
                # the SVG namespace is a name, not a request
                text = text.replace("http://www.w3.org/2000/svg", "")
            assert marker not in text.lower(), (name, marker)


def test_data_in_the_page_cannot_break_out_of_its_element(sidecar: RunningSidecar) -> None:
    _, _, body = request(sidecar, "/", {"Authorization": f"Bearer {TOKEN}"})
    page = body.decode()
    start = page.index('<script type="application/json" id="td-initial">') + len(
        '<script type="application/json" id="td-initial">')
    end = page.index("</script>", start)
    data = json.loads(page[start:end])
    assert "<script>alert(1)" not in page
    models = {r["model"] for r in data["cached"]["byModel"]}
    assert any("alert(1)" in m for m in models)  # it is there, as data
    assert data["cached"] == sidecar.rpc("token-dashboard.cached")
    assert data["usage"]["totals"]["costUsd"] == pytest.approx(0.75)


def test_dashboard_url_carries_the_token_once() -> None:
    from tokendash.config.settings import load_settings

    s = load_settings(home=Path("/nonexistent"), http_addr="127.0.0.1:18790")
    assert dashboard_url(s, "a b/c") == "http://127.0.0.1:18790/?token=a%20b%2Fc"
