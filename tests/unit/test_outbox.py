"""The outbox (tokendash/outbox.py, server/delivery.py) without a sidecar: a transition and its outbox
rows are one transaction; bodies per format; no URL or bot token in any error or stored row; retry
policy (backoff, Retry-After, permanent 4xx, lease after a crash); the digest once per interval, across
restarts; health alerts from the last reading only."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.sidecar.harness import make_app
from tests.sidecar.webhook_receiver import Receiver, free_port
from tests.unit.test_budgets import NOW, ms
from tokendash import outbox
from tokendash.alerts import reconcile
from tokendash.api.methods import summary
from tokendash.server.delivery import DeliveryWorker
from tokendash.sources.base import UsageEvent
from tokendash.store import models as m

HOUR = 3_600_000
TOKEN = "123456:AAFakeBotTokenThatMustNeverShow"


def _budget_app(tmp: Path, limit: float, hooks: list[dict[str, Any]], **kw: Any):  # type: ignore[no-untyped-def]
    return make_app(tmp, timezone="America/New_York", budgets=[{"id": "day", "period": "daily", "limit": limit}],
                    webhooks=hooks, **kw)


def _spend(app, key: str, usd: str, at: int = ms("2026-11-22T05:30:00")) -> None:  # type: ignore[no-untyped-def]
    e = UsageEvent("record", key, at, "openai", "m", input=1, reported_cost_usd=Decimal(usd))
    app.store.write_batch("record", [(e, app.prices.price(e))])


def _rows(app) -> list[Any]:  # type: ignore[no-untyped-def]
    with app.store.engine.connect() as c:
        return c.execute(select(m.outbox).order_by(m.outbox.c.created_ms, m.outbox.c.id)).all()


def test_each_transition_is_one_row_per_webhook(tmp_path: Path) -> None:
    hooks = [{"url": "http://127.0.0.1:9/a"}, {"url": f"https://api.telegram.org/bot{TOKEN}/sendMessage",
                                                "format": "telegram", "chatId": "42"}]
    app = _budget_app(tmp_path, 4, hooks)
    _spend(app, "k1", "3.2")  # 80 %: warning
    summary(app, now_ms=NOW)
    summary(app, now_ms=NOW + 60_000)  # the same state again: nothing new
    _spend(app, "k2", "0.5")  # 92.5 %: critical
    summary(app, now_ms=NOW + 120_000)
    raised = _budget_app(tmp_path, 100, hooks)  # the limit raised: resolved
    summary(raised, now_ms=NOW + 180_000)
    summary(raised, now_ms=NOW + 240_000)
    rows = _rows(app)
    assert [(r.transition, r.alert_id) for r in rows] == [
        (t, "budget:day") for t in ("opened", "opened", "severity", "severity", "resolved", "resolved")]
    assert {r.webhook for r in rows} == {outbox.webhook_key(w) for w in app.settings.webhooks}
    assert all(r.state == "pending" and r.attempts == 0 for r in rows)
    assert not any(TOKEN in (r.payload + r.webhook) or "telegram" in r.webhook for r in rows)  # no URL stored
    sev = outbox.body("json", __import__("json").loads(rows[2].payload), rows[2].id)
    assert sev["transition"] == "severity" and sev["previousSeverity"] == "warning"
    assert sev["alert"]["severity"] == "critical" and sev["deliveryId"] == rows[2].id


def test_a_failed_enqueue_undoes_the_alert_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = _budget_app(tmp_path, 4, [{"url": "http://127.0.0.1:9/a"}, {"url": "http://127.0.0.1:9/b"}])
    real = outbox.enqueue
    calls = {"n": 0}

    def crash_on_second(conn, hooks, *a, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        real(conn, hooks[:1], *a, **kw)  # the first webhook's row is written …
        raise RuntimeError("power cut")  # … and then the process "dies" inside the transaction

    monkeypatch.setattr(outbox, "enqueue", crash_on_second)
    held = [{"id": "budget:day", "type": "budget", "scope": "day", "severity": "warning", "message": "x"}]
    with pytest.raises(RuntimeError):
        reconcile(app.store.engine, held, NOW, app.settings.webhooks)
    with app.store.engine.connect() as c:
        assert c.execute(select(m.alerts)).all() == [] and c.execute(select(m.outbox)).all() == []
    monkeypatch.setattr(outbox, "enqueue", real)
    assert [t["transition"] for t in reconcile(app.store.engine, held, NOW, app.settings.webhooks)] == ["opened"]
    assert len(_rows(app)) == 2


def test_bodies_per_format() -> None:
    alert = {"event": "alert", "transition": "opened", "alert": {
        "id": "runaway:session:s<1>", "type": "runaway", "scope": "session:s<1>", "severity": "critical",
        "message": "Session s<1> & co made 900 calls", "state": "open", "firstSeen": "2026-11-22T06:00:00.000Z",
        "lastSeen": "2026-11-22T06:00:00.000Z", "timestamp": "2026-11-22T06:00:00.000Z"}}
    tg = outbox.body("telegram", alert, "d_1", "42")
    assert tg == {"chat_id": "42", "parse_mode": "HTML", "disable_web_page_preview": True,
                  "text": "🔴 <b>Alert</b> (critical) [runaway] Session s&lt;1&gt; &amp; co made 900 calls"}
    assert outbox.body("discord", alert, "d_1") == {"content": "🔴 **Alert** (critical) [runaway] Session s<1> & co made 900 calls"}
    assert outbox.body("slack", alert, "d_1") == {"text": "🔴 *Alert* (critical) [runaway] Session s&lt;1&gt; &amp; co made 900 calls"}
    js = outbox.body("json", alert, "d_1")
    assert js["deliveryId"] == "d_1" and js["alert"] == alert["alert"] and js["transition"] == "opened"
    resolved = {**alert, "transition": "resolved", "alert": {**alert["alert"], "state": "resolved"}}
    assert outbox.body("discord", resolved, "d")["content"].startswith("✅ **Resolved** [runaway]")
    digest = {"event": "digest", "text": "📊 **Token Dashboard**\n" + "x" * 5000}
    assert len(outbox.body("discord", digest, "d")["content"]) == outbox.DISCORD_MAX
    assert len(outbox.body("telegram", digest, "d", "1")["text"]) <= outbox.TELEGRAM_MAX
    assert outbox.body("telegram", digest, "d", "1")["text"].startswith("📊 <b>Token Dashboard</b>")


def test_no_url_or_token_in_errors(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/bot{TOKEN}/sendMessage"  # nothing listens: refused
    app = _budget_app(tmp_path, 4, [{"url": url, "format": "telegram", "chatId": "1"}])
    _spend(app, "k1", "5")
    summary(app, now_ms=NOW)
    w = DeliveryWorker(app, lambda: None, clock=lambda: NOW)
    try:
        w.step()
    finally:
        w.close()
    (row,) = _rows(app)
    assert row.state == "pending" and row.attempts == 1 and row.last_error
    assert TOKEN not in row.last_error and "bot" not in row.last_error.split("/…")[0][-4:]
    assert row.last_error.startswith(f"http://127.0.0.1:{url.split(':')[2].split('/')[0]}/…: ConnectError")
    assert TOKEN not in str(app.settings.masked())
    assert outbox.mask_secrets(f"boom {url} and {TOKEN}", url) == "boom http://127.0.0.1:" + url.split(":")[2].split("/")[0] + "/… and ****"


def test_backoff_is_capped_exponential_with_jitter() -> None:
    rng = random.Random(1)
    for n, top in ((1, 2), (2, 4), (3, 8), (8, 60), (30, 60)):
        got = [outbox.backoff_seconds(n, 2, 60, rng) for _ in range(200)]
        assert top / 2 <= min(got) and max(got) <= top and len(set(got)) > 100


class Clock:
    def __init__(self, t: int) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


def test_retry_policy_lease_and_permanent_failure(tmp_path: Path) -> None:
    rec = Receiver().start()
    statuses = {"/a": [500, 429, 200], "/b": [404]}
    retry_after = {"/a": {"Retry-After": "120"}}

    def answer(path: str, n: int) -> tuple[int, dict[str, str]]:
        st = statuses[path][min(n, len(statuses[path]) - 1)]
        return st, retry_after.get(path, {}) if st == 429 else {}

    rec.answer = answer
    try:
        app = _budget_app(tmp_path, 4, [{"url": rec.base + "/a"}, {"url": rec.base + "/b", "format": "slack"}],
                          delivery={"backoffSeconds": 1, "backoffCapSeconds": 10})
        _spend(app, "k1", "5")
        summary(app, now_ms=NOW)
        clock = Clock(NOW)
        w = DeliveryWorker(app, lambda: None, clock=clock)
        w.step()  # /a: 500 → retry within 1 s; /b: 404 → failed, never again
        a, b = sorted(_rows(app), key=lambda r: r.webhook == outbox.webhook_key(app.settings.webhooks[1]))
        assert (a.state, a.attempts, b.state, b.attempts) == ("pending", 1, "failed", 1)
        assert NOW + 500 <= a.next_attempt_ms <= NOW + 1000 and "HTTP 500" in a.last_error
        clock.t = a.next_attempt_ms
        w.step()  # 429 with Retry-After: 120 → not before two minutes
        (a,) = [r for r in _rows(app) if r.id == a.id]
        assert a.attempts == 2 and a.next_attempt_ms == clock.t + 120_000
        clock.t += 100_000
        with app.store.engine.begin() as c:  # another row for /a: it queues behind the head
            (later,) = outbox.enqueue(c, app.settings.webhooks[:1], "digest", {"event": "digest", "text": "t"}, clock.t)
        assert w.step() == 1.0  # nothing due: sleep the poll interval, no busy loop over the row behind
        clock.t += 19_000
        w.step()
        assert len(rec.on("/a")) == 2  # still waiting
        # A crash right after claiming (the row is leased, not lost): the lease runs out, then it is sent.
        clock.t += 1000
        (row,) = outbox.due_rows(app.store.engine, [a.webhook], clock.t)
        assert outbox.claim(app.store.engine, row, clock.t, 60_000)
        assert not outbox.claim(app.store.engine, row, clock.t, 60_000)  # nobody else can take it meanwhile
        w.step()
        assert len(rec.on("/a")) == 2
        clock.t += 60_000
        w.step()
        assert [h.status for h in rec.on("/a")] == [500, 429, 200] and len(rec.on("/b")) == 1
        assert {h.delivery_id for h in rec.on("/a")} == {a.id}  # the same delivery id every time
        (a,) = [r for r in _rows(app) if r.id == a.id]
        assert (a.state, a.attempts, a.last_error) == ("delivered", 4, None)
        clock.t += 3_600_000
        w.step()  # now the row behind it
        w.step()
        assert [h.delivery_id for h in rec.on("/a")] == [a.id] * 3 + [later]
        assert len(rec.hits) == 5  # delivered is final
        w.close()
    finally:
        rec.stop()


def test_digest_once_per_interval_across_restarts(tmp_path: Path) -> None:
    rec = Receiver().start()
    try:
        app = _budget_app(tmp_path, 4, [{"url": rec.base + "/d", "format": "discord"}], digest_interval_hours=6)
        dash = summary(app, now_ms=NOW)
        clock = Clock(NOW)
        w = DeliveryWorker(app, lambda: None, clock=clock)
        w.step()
        assert rec.hits == []  # no dashboard built yet: nothing to digest
        w = DeliveryWorker(app, lambda: dash, clock=clock)
        w.step()
        w.step()
        clock.t += 5 * HOUR
        again = _budget_app(tmp_path, 4, [{"url": rec.base + "/d", "format": "discord"}], digest_interval_hours=6)
        w2 = DeliveryWorker(again, lambda: dash, clock=clock)  # a restart within the interval
        w2.step()
        assert len(rec.hits) == 1 and rec.hits[0].body["content"].startswith("📊 **Token Dashboard**")
        clock.t += HOUR
        w2.step()
        assert len(rec.hits) == 2
        assert outbox.last_digest_ms(app.store.engine) == NOW + 6 * HOUR
        w.close()
        w2.close()
    finally:
        rec.stop()


def test_health_alerts_come_from_the_last_reading(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    reading = {"alerts": [{"id": "health:ram", "type": "health", "scope": "ram", "severity": "critical",
                           "message": "RAM at 95.0 % (above 90 %)", "state": "open"}]}
    app.last_health = reading
    (a,) = summary(app, now_ms=NOW)["alerts"]
    assert (a["id"], a["state"], a["severity"]) == ("health:ram", "open", "critical")
    fresh = make_app(tmp_path)  # a restart: no reading yet, so the open health alert is left as it is
    (a,) = summary(fresh, now_ms=NOW + HOUR)["alerts"]
    assert (a["state"], a["lastSeen"]) == ("open", "2026-11-22T06:00:00.000Z")
    fresh.last_health = {"alerts": []}  # a reading within limits: resolved
    (a,) = summary(fresh, now_ms=NOW + 2 * HOUR)["alerts"]
    assert a["state"] == "resolved"


def test_alerts_deliveries_command(tmp_path: Path) -> None:
    import json

    from tests.support import Cli

    cli = Cli(tmp_path)
    cli.env["TOKENDASH_WEBHOOKS"] = json.dumps([{"url": f"https://api.telegram.org/bot{TOKEN}/sendMessage",
                                                 "format": "telegram", "chatId": "1"}])
    assert cli.run("alerts", "--deliveries").stdout.strip() == "No deliveries."
    cli.env["TOKENDASH_BUDGETS"] = json.dumps([{"id": "tiny", "period": "monthly", "limit": 0.000001}])
    cli.run("call", "token-dashboard.record", "--params", json.dumps({"events": [
        {"idempotencyKey": "k1", "provider": "openai", "model": "gpt-4o", "input": 10, "costUsd": 1.0}]}))
    cli.run("alerts")  # in-process: the dashboard build opens the alert and queues its delivery
    out = cli.run("alerts", "--deliveries").stdout
    assert "Deliveries: 1 pending" in out and "budget:tiny opened → telegram https://api.telegram.org/…" in out
    assert TOKEN not in out
    (d,) = cli.json("alerts", "--deliveries")["deliveries"]
    assert (d["state"], d["transition"], d["attempts"]) == ("pending", "opened", 0)
