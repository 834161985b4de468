"""The dashboard in memory (SPEC §8 ``cached``): rebuilt by one background thread after each refresh,
and encoded once per build for both transports and both formats. Readers take the current snapshot (an
attribute read) and never wait on the store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tokendash.api.codec import Encoded, encode

log = logging.getLogger("tokendash.server")

# Rebuild at least this often even when nothing changed, so ages and "today" stay current.
MAX_AGE_SECONDS = 30.0
# ... and at most this often: a stream of records (one per LLM call) coalesces into one rebuild per
# interval instead of keeping a core busy rebuilding.
MIN_INTERVAL_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int
    built: float  # time.monotonic()
    json: Encoded
    text: Encoded

    def get(self, fmt: str) -> Encoded:
        return self.text if fmt == "text" else self.json


def encode_summary(value: dict[str, Any]) -> tuple[Encoded, Encoded]:
    from tokendash.render.text import render_summary

    return encode(value, "Status"), encode({**value, "text": render_summary(value)}, "Status")


def with_format(value: dict[str, Any], fmt: str) -> dict[str, Any]:
    if fmt != "text":
        return value
    from tokendash.render.text import render_summary

    return {**value, "text": render_summary(value)}


def with_stale(value: dict[str, Any], stale: Iterable[str], fmt: str) -> dict[str, Any]:
    """The summary with the sources that did not refresh in time flagged (``status`` after its timeout)."""
    ids = set(stale)
    out = dict(value)
    out["stale"] = True
    out["sources"] = [{**s, "stale": True} if s["id"] in ids else s for s in value.get("sources") or []]
    out.pop("text", None)
    return with_format(out, fmt)


class SummaryCache:
    def __init__(self, build: Callable[[], dict[str, Any]], max_age: float = MAX_AGE_SECONDS,
                 min_interval: float = MIN_INTERVAL_SECONDS) -> None:
        self._build = build
        self._max_age = max_age
        self._min_interval = min_interval
        self._last_start = float("-inf")
        self._cond = threading.Condition()
        self._wanted = 1  # the first build is wanted from the start
        self._have = 0
        self._stopping = False
        self.snapshot: Snapshot | None = None
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="tokendash-summary", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout)

    def invalidate(self) -> int:
        """Ask for a rebuild; returns the version that will include every change made before this call."""
        with self._cond:
            self._wanted += 1
            self._cond.notify_all()
            return self._wanted

    def wait_for(self, version: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._have < version:
                left = deadline - time.monotonic()
                if left <= 0 or self._stopping:
                    return False
                self._cond.wait(left)
            return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._wanted == self._have and not self._stopping:
                    if not self._cond.wait(self._max_age):
                        self._wanted += 1  # periodic rebuild
                not_before = self._last_start + self._min_interval
                while not self._stopping and time.monotonic() < not_before:
                    self._cond.wait(not_before - time.monotonic())  # changes landing meanwhile: one build
                if self._stopping:
                    return
                version = self._wanted
                self._last_start = time.monotonic()
            try:
                value = self._build()
                js, txt = encode_summary(value)
                self.snapshot = Snapshot(version, time.monotonic(), js, txt)
                self.last_error = None
            except Exception as e:  # keep serving the last good dashboard; the error is logged once per build
                self.last_error = f"{type(e).__name__}: {e}"
                log.error("dashboard rebuild failed: %s", self.last_error)
            with self._cond:
                self._have = max(self._have, version)
                self._cond.notify_all()
