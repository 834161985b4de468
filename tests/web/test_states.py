"""The dashboard's empty and error states, and the page inside a Control-UI-like sandboxed frame, in a
real headless Chromium: a new user with nothing to read, a provider key rejected, the sidecar starting
(the page fills in by itself), the sidecar gone (the figures stay, a notice says so), and the page
proxied under ``/plugins/token-dashboard/`` into an opaque-origin frame, as the OpenClaw plugin does."""

from __future__ import annotations

import http.client
import http.server
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.sidecar.harness import RunningSidecar, make_app
from tests.web.browser import (
    SCREENSHOTS,
    TOKEN,
    Browser,
    attr,
    base_url,
    require_chromium,
    save_copy,
    text,
    wait_for,
)
from tokendash.server.web import POLL_SECONDS
from tokendash.sources.base import SourceError

PLUGIN_PREFIX = "/plugins/token-dashboard/"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    require_chromium()
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    assert b.off_loopback() == []  # nothing any of these pages did left loopback
    b.close()


def start(tmp: Path, sources: list[Any] | None = None) -> RunningSidecar:
    app = make_app(tmp, token=TOKEN, ollama_url="http://127.0.0.1:9", gateway_url="http://127.0.0.1:9")
    return RunningSidecar(app, sources).start()


def state(b: Browser) -> str:
    return b.driver.execute_script("return document.documentElement.dataset.state || ''")


def notice(b: Browser, key: str) -> str:
    found = b.driver.find_elements("css selector", f'#notices [data-key="{key}"]')
    return found[0].text if found else ""


def shot(b: Browser, tmp: Path, name: str) -> None:
    save_copy(b.screenshot(tmp / name), SCREENSHOTS)


def test_a_new_user_is_told_what_to_do_and_a_lost_sidecar_keeps_the_figures(tmp_path: Path, browser: Browser) -> None:
    sidecar = start(tmp_path)
    try:
        browser.viewport(1280, 800)
        browser.driver.get(base_url(sidecar) + f"?token={TOKEN}")
        wait_for(lambda: state(browser) == "live", 15, "the page")
        words = notice(browser, "empty")
        assert "No sources found yet" in words
        for hint in ("~/.claude", "CLAUDE_CONFIG_DIR", "CODEX_HOME", "OPENCLAW_STATE_DIR", "OPENAI_ADMIN_KEY",
                     "tokendash doctor"):
            assert hint in words, hint
        assert "No usage in the last 30 days" in text(browser, "#chart")
        assert text(browser, "#kpi-today [data-role=cost]") == "$0.00"
        assert "No budgets yet" in text(browser, "#budgets")
        shot(browser, tmp_path, "state-empty-1280x800.png")
    finally:
        sidecar.stop()
    # The sidecar is gone: the page says so within a refresh, and keeps what it showed.
    wait_for(lambda: state(browser) == "offline", POLL_SECONDS + 5, "the offline state")
    assert "Cannot reach the tokendash sidecar" in notice(browser, "offline")
    assert "tokendash serve" in notice(browser, "offline")
    assert text(browser, "#conn-text") == "Sidecar unreachable"
    assert text(browser, "#kpi-today [data-role=cost]") == "$0.00"  # not blanked
    shot(browser, tmp_path, "state-offline-1280x800.png")


class RejectedKey:
    """The OpenRouter API source with a key the provider refuses."""

    id = "openrouter"
    kind = "api"

    def configured(self) -> bool:
        return True

    def poll(self, cursors: Mapping[str, Any]) -> Iterator[Any]:
        raise SourceError("openrouter: HTTP 401 from /credits: the API key was rejected")
        yield  # pragma: no cover


def test_a_rejected_key_is_named_with_what_to_do(tmp_path: Path, browser: Browser) -> None:
    app_sources = make_app(tmp_path).sources(["claude-code", "codex"])
    sidecar = start(tmp_path, [*app_sources, RejectedKey()])
    try:
        def failed() -> bool:
            src = {s["id"]: s for s in sidecar.rpc_raw("token-dashboard.cached").get("result", {}).get("sources", [])}
            return bool(src.get("openrouter", {}).get("error"))

        wait_for(failed, 20, "the failing source in the dashboard")
        browser.viewport(1280, 800)
        browser.driver.get(base_url(sidecar) + f"?token={TOKEN}")
        wait_for(lambda: state(browser) == "live", 15, "the page")
        words = notice(browser, "key:openrouter")
        assert "rejected its key" in words and "HTTP 401" in words
        assert "OPENROUTER_API_KEY" in words and "tokendash doctor" in words
        row = browser.driver.find_element("css selector", '#sources tr[data-key="openrouter"]')
        assert row.find_element("css selector", ".pill").text == "key rejected"
        assert "HTTP 401" in row.text
        wait_for(lambda: browser.driver.find_elements("css selector", '#alerts li[data-key="error:openrouter"]'),
                 POLL_SECONDS + 3, "the source's error alert")
        shot(browser, tmp_path, "state-key-rejected-1280x800.png")
    finally:
        sidecar.stop()


def test_balances_with_runway_and_a_key_the_provider_refuses(tmp_path: Path, browser: Browser,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider APIs (local fakes of Moonshot and DeepSeek): Moonshot's balance is on the page as
    the API has it; DeepSeek refuses the key it was given, and the page names the key to fix."""
    from tests.providers.conftest import make_world

    empty = tmp_path / "empty"
    empty.mkdir()
    with make_world(tmp_path, monkeypatch) as world:
        wrong = "sk-wrong-key-for-the-test-0000"
        monkeypatch.setenv("DEEPSEEK_API_KEY", wrong)
        app = world.app(enabled_providers=["moonshot", "deepseek"], http_addr="127.0.0.1:0", grpc_addr="off",
                        token=TOKEN, claude_config_dir=str(empty), codex_home=str(empty),
                        ollama_url="http://127.0.0.1:9", gateway_url="http://127.0.0.1:9")
        sidecar = RunningSidecar(app).start()
        try:
            def polled() -> dict[str, Any] | None:
                s = sidecar.rpc("token-dashboard.status", {"maxAgeSeconds": 0, "timeoutSeconds": 10})
                by = {p["providerId"]: p for p in s["providers"]}
                src = {x["id"]: x for x in s["sources"]}
                moon = by.get("moonshot") or {}
                return s if moon.get("isReachable") and (src.get("deepseek") or {}).get("error") else None

            api = wait_for(polled, 30, "both providers polled")
            browser.viewport(1280, 800)
            browser.driver.get(base_url(sidecar) + f"?token={TOKEN}")
            wait_for(lambda: state(browser) == "live", 15, "the page")
            total = api["totalBalanceUsd"]
            assert total == pytest.approx(49.58894)
            assert float(attr(browser, "#kpi-balance [data-role=cost]", "data-value") or "nan") == total
            assert text(browser, "#kpi-balance [data-role=cost]") == "$49.59"
            row = browser.driver.find_element("css selector", '#providers tr[data-key="moonshot"]')
            assert "$49.59" in row.text
            words = wait_for(lambda: notice(browser, "key:deepseek"), POLL_SECONDS + 3, "the rejected key")
            assert "rejected its key" in words and "DEEPSEEK_API_KEY" in words
            source = browser.driver.find_element("css selector", '#sources tr[data-key="deepseek"]')
            assert source.find_element("css selector", ".pill").text == "key rejected"
            page = browser.driver.page_source
            assert wrong not in page and world.env["MOONSHOT_API_KEY"] not in page  # keys never reach the page
            shot(browser, tmp_path, "state-balance-and-rejected-key-1280x800.png")
        finally:
            sidecar.stop()


class Gate:
    """A local source whose ``configured()`` waits for the test: the first dashboard build waits with it."""

    id = "gate"
    kind = "local"

    def __init__(self) -> None:
        self.open = threading.Event()

    def configured(self) -> bool:
        self.open.wait(30)
        return False

    def poll(self, cursors: Mapping[str, Any]) -> Iterator[Any]:
        yield from ()


def test_while_the_sidecar_starts_the_page_says_so_and_fills_in_by_itself(tmp_path: Path, browser: Browser) -> None:
    gate = Gate()
    sidecar = start(tmp_path, [gate])
    try:
        browser.viewport(1280, 800)
        browser.driver.get(base_url(sidecar) + f"?token={TOKEN}")
        wait_for(lambda: "tokendash is starting" in notice(browser, "starting"), 10, "the starting notice")
        assert state(browser) == "starting"
        assert text(browser, "#conn-text") == "Starting"
        shot(browser, tmp_path, "state-starting-1280x800.png")
        gate.open.set()
        wait_for(lambda: state(browser) == "live", 10, "the dashboard to fill in")
        assert notice(browser, "starting") == ""
        assert attr(browser, "#kpi-today [data-role=cost]", "data-value") == "0"
    finally:
        gate.open.set()
        sidecar.stop()


class MiniGateway:
    """What the OpenClaw gateway and plugin do for the Control UI tab, on loopback: a page that frames
    ``/plugins/token-dashboard/`` in a sandbox without allow-same-origin (an opaque origin), and that
    route proxied to the sidecar's ``/<rest>`` (GET and HEAD only) with the bearer token, passing on
    only content-type, cache-control, etag and last-modified, as ``plugin/index.js`` does."""

    def __init__(self, sidecar: RunningSidecar) -> None:
        assert sidecar.bound
        host, port = sidecar.bound.http
        self.paths: list[str] = []
        seen = self.paths

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                seen.append(self.path)
                if self.path == "/":
                    body = (f'<!doctype html><title>Control UI</title><body style="margin:0">'
                            f'<iframe id="tab" sandbox="allow-scripts" src="{PLUGIN_PREFIX}" '
                            f'style="border:0;width:100vw;height:100vh"></iframe></body>').encode()
                    self._reply(200, {"content-type": "text/html; charset=utf-8"}, body)
                    return
                if not self.path.startswith(PLUGIN_PREFIX):
                    self._reply(404, {}, b"")
                    return
                conn = http.client.HTTPConnection(host, port, timeout=30)
                try:
                    conn.request("GET", "/" + self.path[len(PLUGIN_PREFIX):], headers={"Authorization": f"Bearer {TOKEN}"})
                    r = conn.getresponse()
                    body = r.read()
                    passed = {k: r.getheader(k) for k in ("content-type", "cache-control", "etag", "last-modified")}
                    self._reply(r.status, {k: v for k, v in passed.items() if v}, body)
                finally:
                    conn.close()

            def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_inside_the_control_ui_frame_the_page_shows_its_data(tmp_path: Path, browser: Browser) -> None:
    sidecar = start(tmp_path)
    gw = MiniGateway(sidecar)
    driver = browser.driver
    try:
        wait_for(lambda: sidecar.get("/readyz", TOKEN)[0] == 200, 10, "the dashboard")
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        sidecar.rpc("token-dashboard.record", {"events": [
            {"idempotencyKey": "f1", "timestamp": now, "provider": "openai", "model": "gpt-5", "input": 10, "output": 5,
             "costUsd": 2.5},
            {"idempotencyKey": "f2", "timestamp": now, "provider": "deepseek", "model": "deepseek-chat", "input": 10,
             "output": 5, "costUsd": 1.25}]})
        api = sidecar.rpc("token-dashboard.cached")
        browser.collect()
        browser.requests.clear()
        browser.viewport(1280, 800)
        driver.get(gw.url)
        driver.switch_to.frame(driver.find_element("id", "tab"))
        wait_for(lambda: state(browser) == "live", 15, "the page in the frame")
        assert driver.execute_script("return self.origin") == "null"  # an opaque origin, as in the Control UI
        assert float(attr(browser, "#kpi-today [data-role=cost]", "data-value") or "nan") == api["periods"]["today"]["costUsd"]
        assert text(browser, "#kpi-today [data-role=cost]") == "$3.75"
        series = {g.get_attribute("data-provider") for g in driver.find_elements("css selector", "#chart svg g.series")}
        assert series == {"openai", "deepseek"}
        assert "reloads every 30 s" in text(browser, "#conn-text")
        driver.switch_to.default_content()
        shot(browser, tmp_path, "frame-1280x800.png")
        # The sandboxed frame runs in its own renderer, out of the top page's DevTools log: what it asked
        # for is what reached the gateway. Everything went through the prefix with relative URLs, and the
        # frame read no api/* (it cannot, from an opaque origin): its data came in the page.
        assert {PLUGIN_PREFIX, PLUGIN_PREFIX + "app.js", PLUGIN_PREFIX + "style.css"} <= set(gw.paths), gw.paths
        assert not any("/api/" in p for p in gw.paths), gw.paths
        assert all(u.startswith(gw.url) for u in browser.collect()), browser.requests
    finally:
        driver.switch_to.default_content()
        gw.close()
        sidecar.stop()
