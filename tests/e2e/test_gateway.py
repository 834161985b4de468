"""The plugin inside a real OpenClaw 2026.9.6 gateway on Node 24 (reference/openclaw-e2e.md), with a fake
OpenAI-compatible LLM on loopback as the agent's model provider (cost table 3 / 15 / 0.3 / 3.75 USD per
1M tokens). One gateway for the module; the tests run in file order and build on each other:

1. one chat turn → ``token-dashboard.status`` / ``usage`` show exactly that turn, attributed to agent
   ``main`` and provider ``fakellm``, counted once although both the ``llm_output`` hook (a live record)
   and the transcript source saw it, and equal to OpenClaw's own ``sessions.usage``;
2. ``/tokens`` and ``/burn`` through the gateway answer with the sidecar's text rendering;
3. ``openclaw tokens status --json`` parses, ``openclaw tokens providers`` lists the sources;
4. the Control UI tab is in ``hello-ok.controlUiTabs``; the panel route is 401 without the gateway token and
   the sidecar's web page (and its data) with it;
5. a killed sidecar: methods answer UNAVAILABLE meanwhile and it is back within 5 s;
6. budget enforcement (``before_agent_run`` → ``budget.check``): blocked before the model is called with
   our message, through when the sidecar is silent (then reported as an ``error:enforcement`` alert;
   blocked with ``failClosed``), through with ``warn`` and the budget alert open;
7. ``openclaw plugins reload`` and a gateway SIGTERM leave no tokendash process behind.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.fakellm import CACHED_TOKENS, COMPLETION_TOKENS, PROMPT_TOKENS, REPLY, FakeLLM
from tests.e2e.gateway import PRICES, TOKEN, Gateway, tokendash_pids

OPENCLAW = os.environ.get("TOKENDASH_OPENCLAW_BIN")
NODE24 = os.environ.get("TOKENDASH_NODE24")
WS = Path(__file__).with_name("ws.mjs")

if not (OPENCLAW and NODE24):
    if os.environ.get("CI"):
        raise RuntimeError("CI needs TOKENDASH_OPENCLAW_BIN and TOKENDASH_NODE24 (scripts/ci/install-tools.sh)")
    pytest.skip("no openclaw/node 24: source scripts/ci/install-tools.sh first", allow_module_level=True)

pytestmark = pytest.mark.timeout(300)

# One turn as OpenClaw normalises the fake's usage (openclaw-e2e.md §7.1): input is the uncached part.
TURN = {"input": PROMPT_TOKENS - CACHED_TOKENS, "output": COMPLETION_TOKENS, "cacheRead": CACHED_TOKENS,
        "cacheWrite": 0}
TURN_TOTAL = sum(TURN.values())
TURN_COST = (TURN["input"] * PRICES["input"] + TURN["output"] * PRICES["output"]
             + TURN["cacheRead"] * PRICES["cacheRead"]) / 1e6


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, llm: FakeLLM) -> Iterator[Gateway]:
    g = Gateway(tmp_path_factory.mktemp("gateway"), OPENCLAW or "", llm.port)
    try:
        g.start()
        yield g
    except BaseException:
        print(g.tail(80))
        raise
    finally:
        g.stop()


def ws(gw: Gateway, calls: list[dict[str, Any]]) -> dict[str, Any]:
    spec = gw.work / "calls.json"
    spec.write_text(json.dumps(calls))
    cp = subprocess.run([NODE24 or "node", str(WS), str(gw.port), TOKEN, str(spec)], capture_output=True,
                        text=True, timeout=150)
    assert cp.returncode == 0, cp.stderr
    return json.loads(cp.stdout)


def sidecar_db(gw: Gateway) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{gw.sidecar_home / 'tokendash.db'}?mode=ro", uri=True)


def wait_for(what: str, fn: Any, timeout: float, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")


def assert_one_turn(t: dict[str, Any]) -> None:
    assert {k: t["tokens"][k] for k in TURN} == TURN
    assert t["tokens"]["total"] == TURN_TOTAL
    assert t["requests"] == 1
    assert t["costUsd"] == pytest.approx(TURN_COST, abs=1e-9)


def test_one_turn_is_counted_once_and_agrees_with_openclaw(gw: Gateway, llm: FakeLLM) -> None:
    sent = gw.call("chat.send", {"sessionKey": "agent:main:main", "message": "hello", "idempotencyKey": "turn-1"})
    assert sent["runId"] == "turn-1"
    done = gw.call("agent.wait", {"runId": "turn-1", "timeoutMs": 120000}, timeout_ms=130000)
    assert done["status"] == "ok" and done["terminalReply"]["text"] == REPLY
    assert len(llm.requests) == 1

    # The hook's live record arrives at once; the transcript source then supersedes it. Wait for both,
    # then the run must still be there exactly once.
    db = sidecar_db(gw)
    wait_for("the llm_output record", lambda: db.execute(
        "SELECT COUNT(*) FROM source_state WHERE source = 'record' AND last_success_ms IS NOT NULL").fetchone()[0],
        30)
    gw.call("token-dashboard.refresh", {"sources": ["openclaw"]})
    assert db.execute("SELECT source, by_source FROM superseded_keys").fetchall() == [("record", "openclaw")]
    db.close()

    usage = gw.call("token-dashboard.usage", {"groupBy": ["source", "agent", "provider", "model"]})
    assert [(r["source"], r["agent"], r["provider"], r["model"]) for r in usage["rows"]] == [
        ("openclaw", "main", "fakellm", "fake-model")]
    assert_one_turn(usage["totals"])

    status = gw.call("token-dashboard.status", {"maxAgeSeconds": 0})
    assert_one_turn(status["periods"]["today"])
    assert [a["agent"] for a in status["byAgent"]] == ["main"]
    assert_one_turn(status["byAgent"][0])
    assert [p["provider"] for p in status["byProvider"]] == ["fakellm"]
    assert_one_turn(status["byProvider"][0])

    # OpenClaw's own figures for the same session (eventually consistent: poll sessions.usage).
    def openclaw_totals() -> dict[str, Any] | None:
        su = gw.call("sessions.usage", {"range": "7d"})
        t = su.get("totals") or {}
        fresh = (su.get("cacheStatus") or {}).get("status") == "fresh"
        return su if fresh and t.get("totalTokens") == TURN_TOTAL else None

    su = wait_for("sessions.usage", openclaw_totals, 60, every=2)
    t = su["totals"]
    assert (t["input"], t["output"], t["cacheRead"], t["cacheWrite"]) == tuple(TURN.values())
    assert t["totalCost"] == pytest.approx(usage["totals"]["costUsd"], abs=1e-9)
    (sess,) = [s for s in su["sessions"] if s["usage"]["totalTokens"]]
    assert sess["agentId"] == "main" and sess["key"] == "agent:main:main"


def chat_reply(gw: Gateway, message: str, key: str) -> str:
    """Send a chat command and return the assistant reply it produced (commands bypass the LLM)."""
    session = "agent:main:commands"
    gw.call("chat.send", {"sessionKey": session, "message": message, "idempotencyKey": key})

    def reply() -> str | None:
        hist = gw.call("chat.history", {"sessionKey": session, "limit": 20})
        msgs = hist.get("messages") or []
        for i, m in enumerate(msgs):
            if m.get("role") == "user" and message in json.dumps(m.get("content")):
                for later in msgs[i + 1:]:
                    if later.get("role") == "assistant":
                        c = later.get("content")
                        return c if isinstance(c, str) else "".join(p.get("text", "") for p in c or [])
        return None

    return wait_for(f"the reply to {message}", reply, 60, every=1)


def test_tokens_and_burn_commands_print_the_sidecar_text(gw: Gateway, llm: FakeLLM) -> None:
    before = len(llm.requests)
    text = chat_reply(gw, "/tokens", "cmd-tokens")
    assert text.startswith("📊")
    assert "fakellm" in text and f"Tokens: {TURN_TOTAL:,}" in text
    burn = chat_reply(gw, "/burn", "cmd-burn")
    expected = gw.call("token-dashboard.burn", {"format": "text"})["text"]
    assert burn.splitlines()[0] == expected.splitlines()[0]
    bad = chat_reply(gw, "/tokens fortnight", "cmd-bad")
    assert "unknown argument" in bad
    assert len(llm.requests) == before  # commands never reach the model


def test_openclaw_tokens_cli(gw: Gateway) -> None:
    cp = gw.run("tokens", "status", "--json")
    status = json.loads(cp.stdout)  # clean JSON: nothing else on stdout
    assert_one_turn(status["periods"]["today"])
    text = gw.run("tokens", "status").stdout
    assert text.startswith("📊")
    providers = gw.run("tokens", "providers").stdout
    for source in ("claude-code", "codex", "openclaw"):
        assert source in providers


def test_control_ui_tab_and_panel_route(gw: Gateway) -> None:
    hello = ws(gw, [])["hello"]
    tabs = [t for t in hello.get("controlUiTabs") or [] if t.get("pluginId") == "token-dashboard"]
    assert len(tabs) == 1 and tabs[0]["path"] == "/plugins/token-dashboard/" and tabs[0]["label"] == "Tokens"
    status, _ = gw.http("/plugins/token-dashboard/", None)
    assert status == 401
    status, _ = gw.http("/plugins/token-dashboard/", "not-the-token")
    assert status == 401
    status, body = gw.http("/plugins/token-dashboard/", TOKEN)
    assert status == 200, body[:300]
    page = body.decode()
    assert "<title>tokendash</title>" in page and 'src="app.js"' in page  # relative URLs: they stay under the route
    assert TOKEN not in page and (gw.sidecar_home / "token").read_text().strip() not in page
    status, js = gw.http("/plugins/token-dashboard/app.js", TOKEN)
    assert status == 200 and js
    status, summary = gw.http("/plugins/token-dashboard/api/cached", TOKEN)
    assert status == 200
    assert_one_turn(json.loads(summary)["periods"]["today"])


def test_killed_sidecar_answers_unavailable_then_comes_back_within_5_s(gw: Gateway) -> None:
    (pid,) = tokendash_pids(gw.sidecar_home)
    killed_ms = time.time() * 1000
    os.kill(pid, signal.SIGKILL)
    out = ws(gw, [{"method": "token-dashboard.cached", "params": {}, "repeat": 150, "intervalMs": 50,
                   "each": True}])
    calls = out["results"][0]["calls"]
    down = [c for c in calls if not c["ok"]]
    assert down, "the sidecar was never seen down"
    assert {c["error"]["code"] for c in down} == {"UNAVAILABLE"}
    assert "not running" in down[0]["error"]["message"]
    first_ok = next(c for c in calls if c["ok"] and c["at"] > down[0]["at"])
    assert first_ok["at"] - killed_ms < 5000, f"back after {first_ok['at'] - killed_ms:.0f} ms"
    (new_pid,) = tokendash_pids(gw.sidecar_home)
    assert new_pid != pid


def configure(gw: Gateway, **config: Any) -> None:
    """Change the plugin's settings the way a user would; the gateway hot-applies them (the sidecar restarts)."""
    ops = [{"path": f"plugins.entries.token-dashboard.config.{k}", "value": v} for k, v in config.items()]
    (old,) = tokendash_pids(gw.sidecar_home)
    gw.run("config", "set", "--batch-json", json.dumps(ops))
    wait_for("a new sidecar with the new settings", lambda: (p := tokendash_pids(gw.sidecar_home)) and p != [old]
             and len(p) == 1 and budget_check(gw), 60)


def budget_check(gw: Gateway) -> dict[str, Any] | None:
    out = ws(gw, [{"method": "token-dashboard.budget.check", "params": {"agentId": "main"}}])["results"][0]
    return out["payload"] if out["ok"] else None


def turn(gw: Gateway, key: str, message: str = "hello again") -> dict[str, Any]:
    gw.call("chat.send", {"sessionKey": "agent:main:budget", "message": message, "idempotencyKey": key})
    return gw.call("agent.wait", {"runId": key, "timeoutMs": 120000}, timeout_ms=130000)


def test_budget_enforcement_block_warn_and_a_silent_sidecar(gw: Gateway, llm: FakeLLM) -> None:
    # A daily budget the first turn already exceeded, enforced.
    configure(gw, budgets=[{"id": "daily-cap", "period": "daily", "limit": 0.001}],
              enforcement={"mode": "block", "failClosed": False})
    check = wait_for("budget.check to block", lambda: (c := budget_check(gw)) and c["allow"] is False and c, 60)
    assert check["budgetIds"] == ["daily-cap"] and check["state"] == "exceeded"

    before = len(llm.requests)
    blocked = turn(gw, "budget-block-1")
    assert blocked["status"] == "error"
    shown = blocked["terminalReply"]["text"]
    assert shown.startswith("Your message could not be sent: Token budget reached: budget daily-cap (daily) is exceeded")
    assert "it resets on " in shown and shown.endswith("(blocked by token-dashboard)")
    assert len(llm.requests) == before  # the model was never called

    # The sidecar does not answer (stopped, not dead, so the supervisor does not replace it): the run goes on.
    (pid,) = tokendash_pids(gw.sidecar_home)
    os.kill(pid, signal.SIGSTOP)
    try:
        through = turn(gw, "budget-silent-1")
    finally:
        os.kill(pid, signal.SIGCONT)
    assert through["status"] == "ok" and len(llm.requests) == before + 1
    # The next gated run (blocked: the budget is still exceeded) tells the sidecar about the unchecked one.
    assert turn(gw, "budget-block-2")["status"] == "error"
    unchecked = wait_for("the enforcement alert", lambda: [
        a for a in gw.call("token-dashboard.alerts", {})["alerts"] if a["id"] == "error:enforcement"], 30)
    assert unchecked[0]["message"].startswith("1 agent run(s) went through without a budget check")

    # failClosed: the same silence blocks.
    configure(gw, enforcement={"mode": "block", "failClosed": True})
    (pid,) = tokendash_pids(gw.sidecar_home)
    os.kill(pid, signal.SIGSTOP)
    try:
        closed = turn(gw, "budget-silent-2")
    finally:
        os.kill(pid, signal.SIGCONT)
    assert closed["status"] == "error" and "enforcement.failClosed is set" in closed["terminalReply"]["text"]
    assert len(llm.requests) == before + 1

    # warn: the turn goes through, the budget alert is open.
    configure(gw, enforcement={"mode": "warn", "failClosed": False})
    wait_for("budget.check to allow", lambda: (c := budget_check(gw)) and c["allow"] is True, 60)
    assert turn(gw, "budget-warn-1")["status"] == "ok"
    assert len(llm.requests) == before + 2
    alerts = gw.call("token-dashboard.alerts", {})["alerts"]
    assert [(a["type"], a["state"]) for a in alerts if a["id"] == "budget:daily-cap"] == [("budget", "open")]


def test_reload_and_sigterm_leave_no_sidecar_behind(gw: Gateway) -> None:
    (before,) = tokendash_pids(gw.sidecar_home)
    gw.run("plugins", "reload", "token-dashboard", timeout=120)
    after = wait_for("one new sidecar", lambda: (p := tokendash_pids(gw.sidecar_home)) and len(p) == 1
                     and p[0] != before and p, 30)
    assert len(after) == 1
    assert gw.stop() == 0
    assert wait_for("no sidecar left", lambda: tokendash_pids(gw.sidecar_home) == [] or None, 10) is True
