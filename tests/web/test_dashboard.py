"""The web dashboard in a real headless Chromium (SPEC §11): Debian's ``chromium`` and ``chromedriver``
through Selenium, against a sidecar started here with known data (a generated Claude Code corpus, and
OpenAI and OpenRouter records pushed through ``token-dashboard.record``, and budgets).

The page's numbers equal the API's; the chart has one series per provider; an alert raised while the
page is open appears within one refresh; screenshots at 1280×800 and 390 px wide are saved (under the
test's tmp dir and in ``bench-out/screenshots/``); every request the page makes stays on loopback.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sidecar.harness import RunningSidecar, make_app, recent_day
from tests.support import gen_corpus
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

PROVIDERS = {"anthropic", "openai", "openrouter"}
BUDGETS = [
    {"id": "monthly-all", "period": "monthly", "limit": 5000},
    {"id": "weekly-all", "period": "weekly", "limit": 2000},
    {"id": "daily-all", "period": "daily", "limit": 1000},
    {"id": "daily-openai", "period": "daily", "limit": 50, "scope": {"provider": "openai"}},
]


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def records(now: float) -> list[dict[str, Any]]:
    """OpenAI every day and OpenRouter every other day over the last 25 days, today included."""
    out = []
    for i in range(25):
        ts = iso(now - i * 86400 - (0 if i == 0 else 3600))
        out.append({"idempotencyKey": f"oa-{i}", "timestamp": ts, "provider": "openai", "model": "gpt-5",
                    "agent": "main", "project": "site", "input": 120_000, "output": 30_000,
                    "costUsd": round(1.1 + (i % 5) * 0.65, 2)})
        if i % 2 == 0:
            out.append({"idempotencyKey": f"or-{i}", "timestamp": ts, "provider": "openrouter",
                        "model": "moonshotai/kimi-k2", "agent": "researcher", "project": "docs",
                        "input": 40_000, "output": 8_000, "costUsd": round(0.45 + (i % 3) * 0.3, 2)})
    return out


@pytest.fixture(scope="module")
def sidecar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSidecar]:
    require_chromium()
    tmp = tmp_path_factory.mktemp("web-dashboard")
    claude = tmp / "claude"
    manifest = gen_corpus(claude, files=4, assistant_lines=900, seed=17, end_date=recent_day(), days=20)
    app = make_app(tmp, claude, token=TOKEN, local_poll_seconds=0.5, budgets=BUDGETS,
                   ollama_url="http://127.0.0.1:9", gateway_url="http://127.0.0.1:9")
    running = RunningSidecar(app).start()
    want = manifest["dedupTotals"]["entries"]

    def claude_read() -> bool:
        src = {s["id"]: s for s in running.rpc_raw("token-dashboard.cached").get("result", {}).get("sources", [])}
        return bool(src) and src["claude-code"]["items"] == want

    wait_for(claude_read, 60, "the Claude Code corpus in the dashboard")
    assert running.rpc("token-dashboard.record", {"events": records(time.time())})["accepted"] > 0
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser(sidecar: RunningSidecar, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def open_dashboard(b: Browser, sc: RunningSidecar) -> None:
    b.viewport(1280, 800)
    b.driver.get(base_url(sc) + f"?token={TOKEN}")
    assert b.driver.current_url == base_url(sc)  # the token left the address bar
    wait_for(lambda: b.driver.execute_script("return document.documentElement.dataset.state") == "live", 15,
             "the page to show the dashboard")


def parse_money(s: str) -> float:
    """The amount in an en-US currency string ("$1,234.56", "-$0.50")."""
    m = re.search(r"(-?)\$([\d,]+\.\d+)", s)
    assert m, s
    return float(m.group(1) + m.group(2).replace(",", ""))


def test_the_numbers_on_the_page_equal_the_api(sidecar: RunningSidecar, browser: Browser) -> None:
    open_dashboard(browser, sidecar)
    api = sidecar.rpc("token-dashboard.cached")
    usage = sidecar.rpc("token-dashboard.usage", {"since": "30d", "groupBy": ["day", "provider"]})
    assert api["periods"]["today"]["costUsd"] > 0 and api["periods"]["month"]["costUsd"] > 0
    for period in ("today", "week", "month"):
        want = api["periods"][period]
        css = f"#kpi-{period} [data-role=cost]"
        wait_for(lambda css=css, want=want: float(attr(browser, css, "data-value") or "nan") == want["costUsd"], 2 * POLL_SECONDS,
                 f"{period} on the page to equal the API")
        shown = text(browser, css)
        assert parse_money(shown) == pytest.approx(want["costUsd"], abs=0.005), (period, shown)
        assert shown == f"${want['costUsd']:,.2f}" or abs(parse_money(shown) - want["costUsd"]) <= 0.005
        sub = f"#kpi-{period} [data-role=sub]"
        assert int(attr(browser, sub, "data-tokens") or -1) == want["tokens"]["total"]
        assert int(attr(browser, sub, "data-requests") or -1) == want["requests"]
    # The budgets next to them are the API's budgets.
    daily = next(b for b in api["budgets"] if b["id"] == "daily-all")
    assert f"of ${daily['limit']:,.2f}" in text(browser, "#kpi-today [data-role=budget]")
    budget_rows = browser.driver.find_elements("css selector", "#budgets .budget-row")
    assert [r.get_attribute("data-key") for r in budget_rows] == [b["id"] for b in api["budgets"]]
    for row, b in zip(budget_rows, api["budgets"], strict=True):
        assert row.find_element("css selector", ".amt").text == f"${b['spent']:,.2f} / ${b['limit']:,.2f}"
    # Totals: the burn rate, the 30-day total, the top models, the per-provider month to date.
    assert float(attr(browser, "#kpi-burn [data-role=cost]", "data-value") or "nan") == api["totalDailyCostUsd"]
    total = float(attr(browser, "#chart-total", "data-value") or "nan")
    assert total == pytest.approx(usage["totals"]["costUsd"], rel=1e-12)
    assert parse_money(text(browser, "#chart-total")) == pytest.approx(usage["totals"]["costUsd"], abs=0.005)
    top = browser.driver.find_elements("css selector", ".toplist[data-dim=model] li")
    want_models = sorted(api["byModel"], key=lambda r: (-r["costUsd"], -r["tokens"]["total"]))[:6]
    assert [li.get_attribute("data-key") for li in top] == [r["model"] for r in want_models]
    for li, r in zip(top, want_models, strict=True):
        assert float(li.find_element("css selector", ".amt").get_attribute("data-value") or "nan") == r["costUsd"]
    for p in api["providers"]:
        if p.get("currentUsage"):
            cell = browser.driver.find_element("css selector", f'#providers tr[data-key="{p["providerId"]}"] td:nth-child(2)')
            assert float(cell.get_attribute("data-value") or "nan") == p["currentUsage"]["costUsd"]
    # Source freshness: every source the API lists, with its state.
    rows = {r.get_attribute("data-key"): r for r in browser.driver.find_elements("css selector", "#sources tbody tr")}
    assert set(rows) == {s["id"] for s in api["sources"]}
    assert rows["claude-code"].find_element("css selector", ".pill").text == "ok"
    assert "not configured" in rows["codex"].text
    assert browser.off_loopback() == []


def test_the_chart_has_one_series_per_provider(sidecar: RunningSidecar, browser: Browser) -> None:
    open_dashboard(browser, sidecar)
    usage = sidecar.rpc("token-dashboard.usage", {"since": "30d", "groupBy": ["day", "provider"]})
    in_api = {r["provider"] for r in usage["rows"]}
    assert in_api == PROVIDERS
    series = browser.driver.find_elements("css selector", "#chart svg g.series")
    on_page = [g.get_attribute("data-provider") for g in series]
    assert sorted(on_page) == sorted(in_api)  # one each, no duplicates
    for g in series:
        pid = g.get_attribute("data-provider")
        days = {r["date"] for r in usage["rows"] if r["provider"] == pid and r["costUsd"] > 0}
        assert len(g.find_elements("css selector", "rect")) == len(days), pid
    legend = [li.get_attribute("data-key") for li in browser.driver.find_elements("css selector", "#legend li")]
    assert sorted(legend) == sorted(in_api)
    assert browser.off_loopback() == []


def test_an_alert_appears_within_one_refresh(sidecar: RunningSidecar, browser: Browser) -> None:
    open_dashboard(browser, sidecar)
    driver = browser.driver
    assert not driver.find_elements("css selector", '#alerts li[data-key="budget:daily-openai"]')
    refreshes = lambda: int(driver.execute_script("return document.documentElement.dataset.refreshes"))  # noqa: E731
    # Over the OpenAI daily budget: the sidecar raises a budget alert when it rebuilds the dashboard.
    # Watch for blanking while the page updates: after every DOM change the figures and the chart are there.
    driver.execute_script("""
        window.__blank = 0;
        new MutationObserver(() => {
          const big = [...document.querySelectorAll('.kpi .big')];
          if (!document.querySelector('#chart svg g.series') || big.some(e => !e.textContent.trim())) window.__blank++;
        }).observe(document.querySelector('main'), {subtree: true, childList: true, characterData: true});
    """)
    today = driver.find_element("css selector", "#kpi-today [data-role=cost]")
    before = refreshes()
    raised = time.monotonic()
    sidecar.rpc("token-dashboard.record", {"events": [{
        "idempotencyKey": "over-budget", "timestamp": iso(time.time()), "provider": "openai", "model": "gpt-5",
        "agent": "main", "project": "site", "input": 1000, "output": 1000, "costUsd": 75.0}]})
    alerts = sidecar.rpc("token-dashboard.alerts")["alerts"]
    assert any(a["id"] == "budget:daily-openai" and a["state"] == "open" for a in alerts)
    item = wait_for(lambda: driver.find_elements("css selector", '#alerts li[data-key="budget:daily-openai"]'),
                    POLL_SECONDS + 3, "the alert on the page")
    took = time.monotonic() - raised
    # The refresh in flight when it was raised may have missed it; the next one may not.
    assert refreshes() <= before + 2, (before, refreshes())
    assert took <= POLL_SECONDS + 3
    assert "daily-openai" in item[0].text and "sev-crit" in (item[0].get_attribute("class") or "")
    assert text(browser, "#alerts-count").startswith("1 open") or "open" in text(browser, "#alerts-count")
    # The budget bar says the same, and nothing was blanked on the way: the cards kept their nodes.
    assert "exceeded" in driver.find_element("css selector", '#budgets .budget-row[data-key="daily-openai"]').text
    now = sidecar.rpc("token-dashboard.cached")["periods"]["today"]["costUsd"]
    assert float(today.get_attribute("data-value") or "nan") == now  # the same node, updated in place
    assert driver.execute_script("return window.__blank") == 0
    assert browser.off_loopback() == []


def test_screenshots_at_1280_and_390(sidecar: RunningSidecar, browser: Browser, shots: Path) -> None:
    open_dashboard(browser, sidecar)
    driver = browser.driver
    saved = []
    for scheme in ("light", "dark"):
        browser.color_scheme(scheme)
        browser.viewport(1280, 800)
        time.sleep(0.3)
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 1280
        suffix = "" if scheme == "light" else "-dark"
        saved.append(browser.screenshot(shots / f"dashboard-1280x800{suffix}.png"))
        saved.append(browser.screenshot(shots / f"dashboard-1280-full{suffix}.png", full_page=True))
        browser.viewport(390, 844, mobile=True)
        wait_for(lambda: driver.execute_script("return document.querySelector('#chart svg').getAttribute('width')") in
                 (str(w) for w in range(280, 391)), 5, "the chart to fit 390 px")
        # Readable at 390 px: nothing wider than the screen, the big numbers not cut.
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 390
        assert driver.execute_script(
            "return [...document.querySelectorAll('.kpi .big')].every(e => e.scrollWidth <= e.clientWidth + 1)")
        saved.append(browser.screenshot(shots / f"dashboard-390x844{suffix}.png"))
        saved.append(browser.screenshot(shots / f"dashboard-390-full{suffix}.png", full_page=True))
    browser.color_scheme("light")
    browser.viewport(1280, 800)
    for p in saved:
        assert p.stat().st_size > 10_000, p
        save_copy(p, SCREENSHOTS)
    assert browser.off_loopback() == []


def test_no_request_leaves_loopback(sidecar: RunningSidecar, browser: Browser) -> None:
    browser.collect()
    browser.requests.clear()
    open_dashboard(browser, sidecar)
    driver = browser.driver
    start = int(driver.execute_script("return document.documentElement.dataset.refreshes"))
    wait_for(lambda: int(driver.execute_script("return document.documentElement.dataset.refreshes")) >= start + 1,
             2 * POLL_SECONDS, "a refresh")
    time.sleep(0.5)  # the health reading asked for with that refresh
    urls = browser.collect()
    paths = {u.split("?", 1)[0].removeprefix(base_url(sidecar)) for u in urls}
    # The log is complete: the page, its files and its polls are all in it ...
    assert {"", "style.css", "app.js", "api/cached", "api/health"} <= paths, paths
    # ... and every one of them went to the sidecar on loopback.
    assert browser.off_loopback() == []
    assert all(u.startswith(base_url(sidecar)) for u in urls), urls
    errors = [c for c in browser.console if c.get("level") == "SEVERE"]
    assert errors == [], errors
