"""Headless Chromium for the web tests: Debian's ``chromium`` driven by Debian's ``chromedriver``
through Selenium, with every request the page makes recorded (Chrome DevTools performance log)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from tests.support import ROOT

if TYPE_CHECKING:
    from tests.sidecar.harness import RunningSidecar

CHROMIUM = Path(os.environ.get("TOKENDASH_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("TOKENDASH_CHROMEDRIVER", "/usr/bin/chromedriver"))
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
SCREENSHOTS = ROOT / "bench-out" / "screenshots"  # gitignored; the test run copies its screenshots here
TOKEN = "web-dashboard-test-token"


def require_chromium() -> None:
    # CI installs Chromium (.ci/run): there a missing browser fails the test instead of skipping it.
    missing = pytest.fail if os.environ.get("CI") else pytest.skip
    if not CHROMIUM.is_file():
        missing(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium chromium-driver)")
    if not CHROMEDRIVER.is_file():
        missing(f"no chromedriver at {CHROMEDRIVER} (Debian: apt-get install chromium-driver)")
    pytest.importorskip("selenium", reason="selenium is in the dev extra: pip install -e '.[dev]'")


class Browser:
    def __init__(self, profile: Path) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never look anything up
        opts = Options()
        opts.binary_location = str(CHROMIUM)
        for arg in (
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=en-US",
            "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
            "--disable-client-side-phishing-detection", "--disable-features=Translate,OptimizationHints,MediaRouter",
            "--force-color-profile=srgb", "--hide-scrollbars", "--window-size=1280,800",
            # Belt and braces: a name other than localhost does not even resolve. The test still asserts
            # on what the page asked for, from the DevTools log.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            f"--user-data-dir={profile}",
        ):
            opts.add_argument(arg)
        opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        self.driver = webdriver.Chrome(options=opts, service=Service(executable_path=str(CHROMEDRIVER)))
        self.driver.set_page_load_timeout(30)
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.requests: list[str] = []
        self.console: list[dict[str, Any]] = []
        # What Chromium loads at startup (its own new-tab page, chrome:// resources) is not the page's.
        self.driver.get("about:blank")
        self.collect()
        self.requests.clear()
        self.console.clear()

    def close(self) -> None:
        self.driver.quit()

    # -- what the page asked for --------------------------------------------------------------------

    def collect(self) -> list[str]:
        """Every URL requested since the last call (documents, scripts, fetches, images...)."""
        for entry in self.driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                self.requests.append(msg["params"]["request"]["url"])
            elif msg.get("method") == "Network.webSocketCreated":
                self.requests.append(msg["params"]["url"])
        self.console += self.driver.get_log("browser")
        return self.requests

    def off_loopback(self) -> list[str]:
        bad = []
        for url in self.collect():
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.scheme not in ("http", "https", "ws", "wss") or parts.hostname not in LOOPBACK:
                bad.append(url)
        return bad

    # -- views ---------------------------------------------------------------------------------------

    def viewport(self, width: int, height: int, mobile: bool = False) -> None:
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def color_scheme(self, scheme: str) -> None:
        self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
            "features": [{"name": "prefers-color-scheme", "value": scheme}]})

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.driver.execute_script(
                "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1})
        data = self.driver.execute_cdp_cmd("Page.captureScreenshot", params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


def save_copy(src: Path, dest_dir: Path) -> None:
    dest_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest_dir / src.name)


def base_url(sc: RunningSidecar) -> str:
    assert sc.bound
    return f"http://{sc.bound.http[0]}:{sc.bound.http[1]}/"


def text(b: Browser, css: str) -> str:
    return b.driver.find_element("css selector", css).text


def attr(b: Browser, css: str, name: str) -> str | None:
    return b.driver.find_element("css selector", css).get_attribute(name)


def wait_for(pred: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = pred()
        except Exception as e:  # a stale element between two renders: try again
            last = e
        if last and not isinstance(last, Exception):
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
