"""The sidecar's delivery thread: sends the outbox (``tokendash.outbox``) to the webhooks and queues the
summary digest every ``digestIntervalHours``.

It wakes when a dashboard build may have queued something, when the next retry is due, and at least
every ``delivery.pollSeconds``. Per webhook it sends the oldest pending row only (order is kept; a
webhook that is down holds only its own queue). On stop it finishes the request in hand (bounded by
``delivery.timeoutSeconds``) and records its outcome, so nothing is in doubt at a clean shutdown.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable
from typing import Any

from tokendash import outbox

log = logging.getLogger("tokendash.server")

EXPIRE_EVERY_MS = 60_000


class DeliveryWorker:
    def __init__(self, app: Any, summary: Callable[[], dict[str, Any] | None],
                 clock: Callable[[], int] = outbox.now_ms) -> None:
        self.app = app
        self.clock = clock  # epoch milliseconds (tests move it)
        self._summary = summary  # the current dashboard, or None before the first build
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._rng = random.Random()
        self._thread = threading.Thread(target=self._run, name="tokendash-delivery", daemon=True)
        self._client: Any = None
        self._expired_at = -(2**62)
        self.sent = 0
        self.last_error: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.app.settings.webhooks)

    def start(self) -> None:
        if self.enabled:
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # -- the loop -----------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        if self._client is None:
            import httpx

            cfg = self.app.settings.delivery
            self._client = httpx.Client(
                timeout=httpx.Timeout(cfg.timeout_seconds, connect=min(5.0, cfg.timeout_seconds)),
                follow_redirects=False, headers={"User-Agent": "tokendash-webhook/1"},
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _run(self) -> None:
        cfg = self.app.settings.delivery
        try:
            while not self._stop.is_set():
                try:
                    wait = self.step()
                except Exception as e:  # a store hiccup: log once per occurrence, try again shortly
                    self.last_error = f"{type(e).__name__}: {e}"
                    log.error("webhook delivery: %s", self.last_error)
                    wait = cfg.poll_seconds
                self._wake.wait(wait)
                self._wake.clear()
        finally:
            self.close()

    def step(self) -> float:
        """Queue a digest if one is due, send what is due; returns how long to sleep."""
        s = self.app.settings
        cfg = s.delivery
        engine = self.app.store.engine
        hooks = outbox.webhooks_by_key(s.webhooks)
        now = self.clock()
        self._digest(now)
        if now - self._expired_at >= EXPIRE_EVERY_MS:  # a write: not on every wake-up
            outbox.expire(engine, now, int(cfg.give_up_after_hours * 3_600_000))
            self._expired_at = now
        lease = int((cfg.timeout_seconds + 5) * 1000) + outbox.LEASE_EXTRA_MS
        for row in outbox.due_rows(engine, hooks, now):
            if self._stop.is_set():
                break
            if not outbox.claim(engine, row, self.clock(), lease):
                continue  # another process has it
            w = hooks[row.webhook]
            payload = json.loads(row.payload)
            result = outbox.send(self.client, w, row.id, payload, row.kind)
            attempts = row.attempts + 1
            done = self.clock()
            retry_at = None
            if not result.delivered and not result.permanent:
                delay = outbox.backoff_seconds(attempts, cfg.backoff_seconds, cfg.backoff_cap_seconds, self._rng)
                if result.retry_after is not None:  # 429: the receiver says when
                    delay = min(max(delay, result.retry_after), cfg.max_retry_after_seconds)
                retry_at = done + int(delay * 1000)
            outbox.finish(engine, row.id, result, done, retry_at)
            if result.delivered:
                self.sent += 1
            else:
                self.last_error = result.error
                log.warning("webhook delivery %s (%s, attempt %d) failed%s: %s", row.id, row.kind, attempts,
                            "" if retry_at is None else f", retrying in {(retry_at - done) / 1000:.1f} s", result.error)
        # Sleep until the earliest head is due (a row behind a head that backs off waits with it).
        nxt = min((r.next_attempt_ms for r in outbox.heads(engine, hooks)), default=None)
        wait = cfg.poll_seconds
        if nxt is not None:
            wait = min(wait, max(0.0, (nxt - self.clock()) / 1000))
        return wait

    def _digest(self, now_ms: int) -> None:
        s = self.app.settings
        if s.digest_interval_hours <= 0:
            return
        interval = int(s.digest_interval_hours * 3_600_000)
        last = outbox.last_digest_ms(self.app.store.engine)
        if last is not None and now_ms - last < interval:
            return
        summary = self._summary()
        if summary is None:  # the dashboard is not built yet
            return
        from tokendash.render.text import render_summary

        if outbox.enqueue_digest(self.app.store.engine, s.webhooks, render_summary(summary), now_ms, interval):
            log.info("summary digest queued for %d webhook(s)", len(s.webhooks))
