"""Webhook delivery through real ``tokendash serve`` processes: each alert transition (and the digest)
reaches a local receiver once per webhook, in every format, although the receiver refuses connections,
then answers 500, then 429 with ``Retry-After``, and the sidecar is stopped with SIGTERM and started
again on the same store in between. And a record reaches ``budget.check`` within one dashboard build."""

from __future__ import annotations

import http.client
import json
import signal
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.sidecar.harness import RunningSidecar, make_app, serve_process
from tests.sidecar.webhook_receiver import Receiver
from tests.support import Cli

TOKEN = "123456:AAWebhookTestTokenNeverInLogs"
PATHS = {"json": "/json", "telegram": f"/bot{TOKEN}/sendMessage", "discord": "/discord", "slack": "/slack"}


def _rpc(url: str, token: str, method: str, params: dict[str, Any]) -> Any:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        conn.request("POST", "/rpc", body, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        msg = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    assert "error" not in msg, msg
    return msg["result"]


def _spend(url: str, token: str, key: str, usd: float) -> None:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    _rpc(url, token, "token-dashboard.record", {"events": [
        {"idempotencyKey": key, "timestamp": now, "provider": "openai", "model": "gpt-4o", "input": 10, "costUsd": usd}]})


def _outbox(db: Path) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        return c.execute("SELECT id, kind, transition, state, attempts, last_error FROM outbox ORDER BY created_ms").fetchall()


def _wait(cond: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _stop(p: subprocess.Popen[str]) -> str:
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    return err


def test_every_transition_arrives_once_through_outages_and_restarts(tmp_path: Path) -> None:
    rec = Receiver()  # not started yet: connections are refused
    cli = Cli(tmp_path)
    cli.env.update(
        TOKENDASH_TIMEZONE="UTC",
        TOKENDASH_WEBHOOKS=json.dumps([
            {"url": rec.base + PATHS["json"]},
            {"url": rec.base + PATHS["telegram"], "format": "telegram", "chatId": "42"},
            {"url": rec.base + PATHS["discord"], "format": "discord"},
            {"url": rec.base + PATHS["slack"], "format": "slack"},
        ]),
        TOKENDASH_BUDGETS=json.dumps([{"id": "day", "period": "daily", "limit": 10}]),
        TOKENDASH_DELIVERY=json.dumps({"backoffSeconds": 0.2, "backoffCapSeconds": 0.4, "pollSeconds": 0.2}),
        TOKENDASH_DIGEST_INTERVAL_HOURS="1",
    )
    db = cli.home / "tokendash.db"
    stderr = []

    # 1. Receiver down: the alert opens (80 % of the budget), its rows and the digest's wait.
    p, url = serve_process(cli)
    token = (cli.home / "token").read_text().strip()
    _spend(url, token, "k1", 8.0)
    # One queue per webhook, oldest first: each head is tried, refused and retried; the rest wait behind it.
    _wait(lambda: len(rows := _outbox(db)) == 8 and sum(r[4] >= 2 for r in rows) == 4)
    assert all(r[3] == "pending" for r in _outbox(db))
    assert all("ConnectError" in r[5] and "/…" in r[5] for r in _outbox(db) if r[4])
    stderr.append(_stop(p))
    assert all(r[3] == "pending" for r in _outbox(db))  # nothing lost at shutdown

    # 2. The receiver is back but failing: two 500s on each path, then a 429 asking for 1 s, then 200s.
    def answer(path: str, n: int) -> tuple[int, dict[str, str]]:
        return {0: (500, {}), 1: (500, {}), 2: (429, {"Retry-After": "1"})}.get(n, (200, {}))

    rec.answer = answer
    rec.start()
    try:
        p, url = serve_process(cli)
        rec.wait(lambda: len(rec.accepted()) == 8, timeout=20)
        _spend(url, token, "k2", 1.5)  # 95 %: critical
        rec.wait(lambda: len(rec.accepted()) == 12)
        stderr.append(_stop(p))

        # 3. A restart with the limit raised: the alert resolves; no second digest within the hour.
        cli.env["TOKENDASH_BUDGETS"] = json.dumps([{"id": "day", "period": "daily", "limit": 1000}])
        p, url = serve_process(cli)
        rec.wait(lambda: len(rec.accepted()) == 16)
        time.sleep(1.0)  # anything more would show up now
        stderr.append(_stop(p))
    finally:
        rec.stop()

    assert len(rec.accepted()) == 16 and all(r[3] == "delivered" for r in _outbox(db)) and len(_outbox(db)) == 16
    for fmt, path in PATHS.items():
        hits = rec.on(path)
        assert [h.status for h in hits[:4]] == [500, 500, 429, 200], fmt
        assert hits[3].at - hits[2].at >= 0.95, "Retry-After was not honoured"
        ok = [h for h in hits if h.status == 200]
        ids = [h.delivery_id for h in ok]
        assert len(ids) == 4 == len(set(ids)), fmt  # four deliveries, each accepted once
        for h in hits:  # nothing was sent again after its 2xx
            assert not [x for x in hits if x.delivery_id == h.delivery_id and x.at > h.at and h.status == 200]
        alerts = [h for h in ok if "Token Dashboard" not in json.dumps(h.body, ensure_ascii=False)]
        digests = [h for h in ok if h not in alerts]
        assert len(digests) == 1 and len(alerts) == 3, fmt
        if fmt == "json":
            assert [h.body["transition"] for h in alerts] == ["opened", "severity", "resolved"]
            assert [h.body["alert"]["severity"] for h in alerts] == ["warning", "critical", "critical"]
            assert all(h.body["deliveryId"] == h.delivery_id and h.body["alert"]["id"] == "budget:day" for h in alerts)
            assert alerts[2].body["alert"]["state"] == "resolved"
            assert digests[0].body["event"] == "digest" and "📊 **Token Dashboard**" in digests[0].body["text"]
        elif fmt == "telegram":
            assert all(h.body["chat_id"] == "42" and h.body["parse_mode"] == "HTML" for h in ok)
            assert [h.body["text"].split(" ")[1] for h in alerts] == ["<b>Alert</b>", "<b>Now", "<b>Resolved</b>"]
            assert "Budget day (daily) at 80 %: 8.00 of 10.00 USD" in alerts[0].body["text"]
        elif fmt == "discord":
            assert alerts[1].body == {"content": "🔴 **Now critical** (was warning) [budget] Budget day (daily) at 95 %: 9.50 of 10.00 USD"}
        else:
            assert alerts[0].body == {"text": "🟡 *Alert* (warning) [budget] Budget day (daily) at 80 %: 8.00 of 10.00 USD"}
    logs = "\n".join(stderr)
    assert "retrying in" in logs and TOKEN not in logs  # failures were logged, the bot token never


def test_a_record_reaches_budget_check_within_one_build(tmp_path: Path) -> None:
    app = make_app(tmp_path, budgets=[{"id": "main-day", "period": "daily", "limit": 1, "scope": {"agent": "main"}}])
    sc = RunningSidecar(app).start()
    try:
        # Settled: every source has had its first pass (which asks for a build) and that build is done.
        _wait(lambda: all(w.last_result is not None for w in sc.ctx.scheduler.workers.values()))
        assert sc.ctx.cache.wait_for(sc.ctx.cache.invalidate(), 10)
        ask = {"agentId": "main", "provider": "openai"}
        assert sc.rpc("token-dashboard.budget.check", ask)["state"] == "ok"
        builds = []
        real_build = sc.ctx.cache._build

        def counted() -> dict[str, Any]:
            builds.append(time.monotonic())
            return real_build()

        sc.ctx.cache._build = counted
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        t0 = time.monotonic()
        sc.rpc("token-dashboard.record", {"events": [{"idempotencyKey": "x", "timestamp": now, "agent": "main",
                                                      "provider": "openai", "model": "gpt-4o", "costUsd": 2.0}]})
        out = sc.rpc("token-dashboard.budget.check", ask)
        took = time.monotonic() - t0
    finally:
        sc.stop()
    assert out["state"] == "exceeded" and out["budgetIds"] == ["main-day"]
    assert len(builds) == 1 and took < 2.0  # the one build after the record already answers with it


def test_runs_let_through_unchecked_raise_an_enforcement_alert(tmp_path: Path) -> None:
    """The plugin's budget gate reports, with its next answered budget.check, the runs it let through while
    the sidecar was silent: an ``error:enforcement`` alert, without budget.check waiting for the rebuild."""
    sc = RunningSidecar(make_app(tmp_path)).start()
    try:
        _wait(lambda: "result" in sc.rpc_raw("token-dashboard.cached"))  # the first build is done
        t0 = time.monotonic()
        out = sc.rpc("token-dashboard.budget.check", {"agentId": "main", "uncheckedRuns": 2,
                                                      "uncheckedSince": "2026-12-03T08:00:00.000Z"})
        assert out["allow"] is True and time.monotonic() - t0 < 0.5
        sc.rpc("token-dashboard.budget.check", {"agentId": "main", "uncheckedRuns": 1,
                                                "uncheckedSince": "2026-12-03T09:00:00.000Z"})
        def found() -> dict[str, Any] | None:
            return next((a for a in sc.rpc("token-dashboard.alerts")["alerts"] if a["id"] == "error:enforcement"), None)

        _wait(lambda: found() is not None)
        alert = found()
        assert alert is not None
    finally:
        sc.stop()
    assert alert["type"] == "error" and alert["severity"] == "warning" and alert["state"] == "open"
    assert alert["message"].startswith("3 agent run(s) went through without a budget check since "
                                       "2026-12-03T08:00:00.000Z")
