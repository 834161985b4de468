"""Alert delivery (SPEC §3 ``[[webhooks]]``, §6): a persisted outbox, and how one row is sent.

Exactly once, as far as a receiver can tell:

* Each alert transition (opened, severity changed, resolved) and each digest becomes one ``outbox`` row
  per configured webhook, written in the same transaction as the alert change (``alerts.reconcile``):
  a crash either keeps both or neither, so a transition is never lost and never queued twice.
* The sidecar's delivery thread (``server/delivery.py``) sends pending rows, oldest first and one at a
  time per webhook (so "resolved" never overtakes "opened"). Before sending it *claims* the row: one
  conditional UPDATE that bumps ``attempts`` and pushes ``next_attempt_ms`` past the send's timeout (a
  lease). Two sidecars on one store cannot both claim it, and a process that dies mid-send leaves a row
  that is retried once the lease runs out.
* A 2xx marks the row ``delivered`` at once; it is never sent again. Failures (refused, timeout, 5xx,
  408, 429) are retried with capped exponential backoff and jitter, a 429 after its ``Retry-After``; any
  other 4xx is permanent (``failed``). Rows still pending after ``giveUpAfterHours`` are ``failed``.
  Pending rows survive a restart and are sent after the next start.
* The one gap no sender can close: the process dying after the receiver's 2xx and before the commit
  of ``delivered`` makes the row go out once more after the lease. Every request therefore carries
  its delivery id (header ``X-Tokendash-Delivery-Id``, and ``deliveryId`` in the JSON body) for the
  receiver to drop a repeat.

A webhook is known in the outbox only by a hash of its settings (``webhook_key``), never by its URL: a
Telegram URL holds the bot token, a Discord or Slack URL its secret. Errors name it by ``webhook_hint``.
"""

from __future__ import annotations

import hashlib
import html
import json
import random
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection, Engine

from tokendash.render.text import ALERT_ICON
from tokendash.store import models as m

TRANSITIONS = ("opened", "severity", "resolved")
TELEGRAM_MAX = 4096
DISCORD_MAX = 2000
SLACK_MAX = 39_000
LEASE_EXTRA_MS = 30_000  # a claimed row is someone's for its timeout plus this


# -- webhooks -------------------------------------------------------------------------------------


def webhook_key(w: Any) -> str:
    """Stable identity of a webhook's settings (URL, format, chat id): a hash, never the URL."""
    raw = json.dumps([w.url, w.format, w.chat_id or ""], separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def webhook_hint(url: str) -> str:
    """``https://api.telegram.org/…`` — scheme and host only, like a ``keyHint``: the path of a Telegram,
    Discord or Slack webhook URL is its secret."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unparsable URL)"
    return f"{parts.scheme or '?'}://{host}{port}/…" if parts.path.strip("/") or parts.query else f"{parts.scheme}://{host}{port}"


def mask_secrets(text: str, url: str) -> str:
    """``text`` with the URL (and each long path segment of it) replaced: for error messages."""
    text = text.replace(url, webhook_hint(url))
    try:
        parts = urlsplit(url)
        raw = re.split(r"[/?&=]", f"{parts.path}?{parts.query}")
    except ValueError:
        raw = []
    secrets = set()
    for seg in raw:  # each path segment, and a Telegram ``bot<id>:<token>`` without its prefix and by part
        for s in (seg, seg.removeprefix("bot"), *seg.split(":")):
            if len(s) >= 8:
                secrets.add(s)
    for s in sorted(secrets, key=len, reverse=True):
        text = text.replace(s, "****")
    return text


def webhooks_by_key(webhooks: Iterable[Any]) -> dict[str, Any]:
    return {webhook_key(w): w for w in webhooks}


# -- writing ----------------------------------------------------------------------------------------


def new_id() -> str:
    return "d_" + uuid.uuid4().hex


def enqueue(conn: Connection, webhooks: Sequence[Any], kind: str, payload: Mapping[str, Any], now_ms: int,
            alert_id: str | None = None, transition: str | None = None) -> list[str]:
    """One pending row per webhook, in the caller's transaction; returns the delivery ids."""
    ids = []
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    for w in webhooks:
        did = new_id()
        conn.execute(m.outbox.insert().values(
            id=did, webhook=webhook_key(w), kind=kind, alert_id=alert_id, transition=transition, payload=body,
            state="pending", attempts=0, created_ms=now_ms, next_attempt_ms=now_ms,
        ))
        ids.append(did)
    return ids


DIGEST_META_KEY = "digest.last_ms"


def enqueue_digest(engine: Engine, webhooks: Sequence[Any], text: str, now_ms: int, interval_ms: int) -> bool:
    """Queue a digest if none was queued within ``interval_ms``; the last digest time lives in ``meta``
    and is moved with a compare-and-set in the same transaction, so two processes (or a restart) never
    queue the same interval's digest twice."""
    t = m.meta
    with engine.begin() as conn:
        last = conn.execute(select(t.c.value).where(t.c.key == DIGEST_META_KEY)).scalar()
        if last is not None and now_ms - int(last) < interval_ms:
            return False
        if last is None:
            conn.execute(t.insert().values(key=DIGEST_META_KEY, value=str(now_ms)))
        else:
            done = conn.execute(update(t).where(and_(t.c.key == DIGEST_META_KEY, t.c.value == last))
                                .values(value=str(now_ms)))
            if done.rowcount != 1:
                return False
        enqueue(conn, webhooks, "digest", {"event": "digest", "text": text, "timestamp": _iso(now_ms)}, now_ms)
    return True


def last_digest_ms(engine: Engine) -> int | None:
    with engine.connect() as conn:
        v = conn.execute(select(m.meta.c.value).where(m.meta.c.key == DIGEST_META_KEY)).scalar()
    return int(v) if v is not None else None


# -- bodies -----------------------------------------------------------------------------------------


def _iso(ms: int) -> str | None:
    from tokendash.accounting.summary import iso

    return iso(ms)


def alert_text(payload: Mapping[str, Any]) -> str:
    """The human line of an alert transition (Markdown ``**bold**`` as in ``tokendash status``)."""
    a = payload["alert"]
    icon = ALERT_ICON.get(a.get("severity", ""), "ℹ️")
    what = f"[{a['type']}] {a['message']}"
    tr = payload.get("transition")
    if tr == "resolved":
        return f"✅ **Resolved** {what} (open since {a.get('firstSeen')})"
    if tr == "severity":
        return f"{icon} **Now {a['severity']}** (was {payload.get('previousSeverity')}) {what}"
    return f"{icon} **Alert** ({a['severity']}) {what}"


def payload_text(payload: Mapping[str, Any]) -> str:
    return (payload.get("text") or "") if payload.get("event") == "digest" else alert_text(payload)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _telegram_html(text: str) -> str:
    # Telegram rejects a message whose Markdown entities do not pair up; HTML with everything escaped
    # cannot fail that way.
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(text, quote=False))


def _slack(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"\*\*(.+?)\*\*", r"*\1*", text)


def body(fmt: str, payload: Mapping[str, Any], delivery_id: str, chat_id: str | None = None) -> dict[str, Any]:
    """The request body for one webhook format."""
    text = payload_text(payload)
    if fmt == "telegram":
        # HTML after escaping; cut before converting so a tag is never split.
        out: dict[str, Any] = {"text": _telegram_html(_cut(text, TELEGRAM_MAX - 200)), "parse_mode": "HTML",
                               "disable_web_page_preview": True}
        if chat_id is not None:
            out = {"chat_id": chat_id, **out}
        return out
    if fmt == "discord":
        return {"content": _cut(text, DISCORD_MAX)}
    if fmt == "slack":
        return {"text": _cut(_slack(text), SLACK_MAX)}
    return {"deliveryId": delivery_id, **payload, "text": text}


# -- sending ----------------------------------------------------------------------------------------


class Outcome:
    __slots__ = ("delivered", "error", "permanent", "retry_after")

    def __init__(self, delivered: bool, error: str | None = None, permanent: bool = False,
                 retry_after: float | None = None) -> None:
        self.delivered = delivered
        self.error = error
        self.permanent = permanent
        self.retry_after = retry_after


def send(client: Any, w: Any, delivery_id: str, payload: Mapping[str, Any], event: str) -> Outcome:
    """One attempt. Never raises; the error text never holds the URL or its secret parts."""
    import httpx

    from tokendash.providers.http import retry_after_seconds

    label = webhook_hint(w.url)
    headers = {"X-Tokendash-Delivery-Id": delivery_id, "X-Tokendash-Event": event,
               "Idempotency-Key": delivery_id}
    try:
        r = client.post(w.url, json=body(w.format, payload, delivery_id, w.chat_id), headers=headers)
    except httpx.HTTPError as e:
        return Outcome(False, mask_secrets(f"{label}: {type(e).__name__}: {e}", w.url))
    except Exception as e:  # an invalid URL and the like: not worth retrying
        return Outcome(False, mask_secrets(f"{label}: {type(e).__name__}: {e}", w.url), permanent=True)
    if 200 <= r.status_code < 300:
        return Outcome(True)
    err = f"{label}: HTTP {r.status_code}"
    if r.status_code == 429:
        ra = retry_after_seconds(r.headers.get("retry-after"))
        if ra is None and w.format == "telegram":  # Telegram says it in the body
            try:
                ra = float(r.json()["parameters"]["retry_after"])
            except Exception:
                ra = None
        return Outcome(False, err, retry_after=ra)
    if r.status_code in (408, 425) or r.status_code >= 500:
        return Outcome(False, err)
    return Outcome(False, err, permanent=True)


def backoff_seconds(attempts: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Capped exponential with jitter: ``min(cap, base·2^(n−1))`` scaled by 0.5–1."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return (rng or random).uniform(delay / 2, delay)


# -- the outbox table -------------------------------------------------------------------------------


def heads(engine: Engine, keys: Iterable[str]) -> list[Any]:
    """The oldest pending row of each webhook (its queue's head), due or not."""
    t = m.outbox
    out = []
    with engine.connect() as conn:
        for k in keys:
            r = conn.execute(
                select(t.c.id, t.c.webhook, t.c.kind, t.c.payload, t.c.attempts, t.c.next_attempt_ms, t.c.created_ms)
                .where(and_(t.c.state == "pending", t.c.webhook == k))
                .order_by(t.c.created_ms, t.c.id).limit(1)
            ).first()
            if r is not None:
                out.append(r)
    return out


def due_rows(engine: Engine, keys: Iterable[str], now_ms: int) -> list[Any]:
    """The head of each known webhook's queue, if it is due now (order is kept per webhook)."""
    return [r for r in heads(engine, keys) if r.next_attempt_ms <= now_ms]


def claim(engine: Engine, row: Any, now_ms: int, lease_ms: int) -> bool:
    t = m.outbox
    with engine.begin() as conn:
        res = conn.execute(update(t).where(and_(
            t.c.id == row.id, t.c.state == "pending", t.c.attempts == row.attempts, t.c.next_attempt_ms <= now_ms,
        )).values(attempts=row.attempts + 1, next_attempt_ms=now_ms + lease_ms))
        return res.rowcount == 1


def finish(engine: Engine, row_id: str, outcome: Outcome, now_ms: int, retry_at_ms: int | None) -> None:
    t = m.outbox
    if outcome.delivered:
        values: dict[str, Any] = {"state": "delivered", "delivered_ms": now_ms, "last_error": None}
    elif outcome.permanent or retry_at_ms is None:
        values = {"state": "failed", "last_error": outcome.error}
    else:
        values = {"next_attempt_ms": retry_at_ms, "last_error": outcome.error}
    with engine.begin() as conn:
        conn.execute(update(t).where(and_(t.c.id == row_id, t.c.state == "pending")).values(**values))


def expire(engine: Engine, now_ms: int, max_age_ms: int) -> int:
    t = m.outbox
    with engine.begin() as conn:
        return conn.execute(update(t).where(and_(t.c.state == "pending", t.c.created_ms < now_ms - max_age_ms))
                            .values(state="failed", last_error="gave up: not delivered in time")).rowcount


def deliveries(engine: Engine, limit: int = 100) -> dict[str, Any]:
    """Counts by state and the most recent rows (no URL; webhooks by hint through the settings)."""
    t = m.outbox
    with engine.connect() as conn:
        counts = dict(conn.execute(select(t.c.state, func.count()).group_by(t.c.state)).all())
        rows = conn.execute(select(t).order_by(t.c.created_ms.desc(), t.c.id.desc()).limit(limit)).all()
    return {"counts": {k: int(v) for k, v in counts.items()}, "rows": rows}


def now_ms() -> int:
    return int(time.time() * 1000)
