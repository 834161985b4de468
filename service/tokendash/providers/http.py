"""The only HTTP client of the provider sources: timeouts, retries, ``Retry-After``, pagination with a
loop guard, a request budget, and error messages that name provider, endpoint and status but never a
key or a raw upstream body.

    ProviderError (a SourceError)
    ├── status set     the provider answered with an HTTP error (401, 403, 404, 429, 5xx, 529 …)
    └── status None    transport (timeout, refused), not JSON, wrong shape, pagination loop, budget

Policy:

* 429 waits ``Retry-After`` (seconds or an HTTP date) when given, else the backoff; a ``Retry-After``
  longer than ``max_retry_after`` is not waited for: the poll fails now and the next one tries again.
* 5xx and 529, timeouts and connection failures are retried with capped exponential backoff and jitter.
* Other 4xx are not retried: a wrong key or a missing scope does not fix itself.
* Every poll of one provider has a deadline and a request budget, so a misbehaving server can cost at
  most a bounded number of requests and seconds.
* Redirects are not followed: a key is only ever sent to the origin it was configured for.
"""

from __future__ import annotations

import json
import random
import re
import ssl
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

import certifi
import httpx

from tokendash.sources.base import SourceError

Params = Sequence[tuple[str, str | int]]

MAX_BODY_BYTES = 16 * 1024 * 1024
_KEYLIKE = re.compile(r"\b(?:sk|pk|rk|key|api)[-_][A-Za-z0-9_\-*.]{6,}", re.IGNORECASE)
_BEARER = re.compile(r"(?i)bearer\s+\S+")
_STATUS_HINT = {
    400: "bad request",
    401: "key rejected",
    402: "payment required",
    403: "permission denied (wrong key type or missing scope)",
    404: "not found",
    429: "rate limited",
    500: "server error",
    502: "bad gateway",
    503: "unavailable",
    504: "gateway timeout",
    529: "overloaded",
}


class ProviderError(SourceError):
    def __init__(self, provider: str, endpoint: str, problem: str, status: int | None = None) -> None:
        self.provider = provider
        self.endpoint = endpoint
        self.status = status
        self.problem = problem
        super().__init__(f"{provider} {endpoint}: {problem}")


@dataclass(frozen=True)
class HttpPolicy:
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    deadline: float = 90.0  # seconds for the whole poll of one provider
    max_retries: int = 3
    backoff: float = 0.5
    backoff_cap: float = 8.0
    max_retry_after: float = 60.0
    max_pages: int = 40
    max_requests: int = 200

    @classmethod
    def from_settings(cls, s: Any) -> HttpPolicy:
        return cls(
            connect_timeout=s.provider_connect_timeout_seconds,
            read_timeout=s.provider_read_timeout_seconds,
            deadline=s.provider_poll_timeout_seconds,
            max_retries=s.provider_max_retries,
            backoff=s.provider_backoff_seconds,
            backoff_cap=s.provider_backoff_cap_seconds,
            max_retry_after=s.provider_max_retry_after_seconds,
            max_pages=s.provider_max_pages,
        )


class Redactor:
    """Removes the configured secrets, and anything shaped like a key or a bearer token, from text
    that may end up in an error message."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "****")
        text = _BEARER.sub("Bearer ****", text)
        return _KEYLIKE.sub("****", text)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def upstream_message(body: bytes, redact: Callable[[str], str]) -> str | None:
    """The human message of a provider's JSON error envelope (OpenAI, Anthropic, OpenRouter, DeepSeek,
    Moonshot), redacted and shortened; never the body itself."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    msg: Any = None
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, str):
            msg = err
        elif isinstance(err, dict):
            msg = err.get("message")
        if msg is None:
            msg = data.get("message")
    if not isinstance(msg, str) or not msg.strip():
        return None
    msg = redact(" ".join(msg.split()))
    return msg[:200] + ("…" if len(msg) > 200 else "")


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    # Loading the CA bundle costs ~20 ms; one context serves every client (it holds no secrets).
    return ssl.create_default_context(cafile=certifi.where())


class ProviderHttp:
    """One provider's client for one poll. ``requests`` counts what was actually sent."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        headers: dict[str, str],
        policy: HttpPolicy,
        secrets: Iterable[str] = (),
        *,
        transport: httpx.BaseTransport | None = None,
        down: dict[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self.redact = Redactor(secrets)
        self.requests = 0
        # Origins that did not answer at all, shared by the clients of one poll (``base_url → why``).
        self._down = down if down is not None else {}
        self._sleep = sleep
        self._clock = clock
        self._deadline = clock() + policy.deadline
        self._rng = random.Random()
        self._client = httpx.Client(
            headers={"Accept": "application/json", "User-Agent": "tokendash", **headers},
            follow_redirects=False,
            transport=transport,
            verify=_tls(),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ProviderHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail(self, endpoint: str, problem: str, status: int | None = None) -> ProviderError:
        return ProviderError(self.provider, endpoint, self.redact(problem), status)

    def _backoff(self, attempt: int) -> float:
        delay = min(self.policy.backoff_cap, self.policy.backoff * (2**attempt))
        return self._rng.uniform(delay / 2, delay)  # jitter keeps many sidecars from retrying in step

    def get_json(self, endpoint: str, params: Params = ()) -> Any:
        """GET ``base_url + endpoint`` and decode JSON, retrying what may pass."""
        url = self.base_url + endpoint
        if self.base_url in self._down:  # no answer at all: do not spend the budget on its other endpoints
            raise self._fail(endpoint, f"skipped: the server did not answer ({self._down[self.base_url]})")
        attempt = 0
        while True:
            remaining = self._deadline - self._clock()
            if remaining <= 0:
                raise self._fail(endpoint, "gave up: the poll's time limit was reached")
            if self.requests >= self.policy.max_requests:
                raise self._fail(endpoint, f"gave up: request budget of {self.policy.max_requests} used")
            self.requests += 1
            read = min(self.policy.read_timeout, remaining)
            timeout = httpx.Timeout(read, connect=min(self.policy.connect_timeout, read))
            status: int | None = None
            try:
                resp = self._client.get(url, params=list(params), timeout=timeout)
            except httpx.TimeoutException:
                problem, wait = f"timed out after {read:g} s", self._backoff(attempt)
            except httpx.ConnectError as e:
                refused = "refused" in str(e).lower()
                problem = "connection refused" if refused else "could not connect"
                wait = self._backoff(attempt)
            except httpx.HTTPError as e:
                problem, wait = f"transport error ({type(e).__name__})", self._backoff(attempt)
            else:
                status = resp.status_code
                if 200 <= status < 300:
                    return self._decode(endpoint, resp)
                problem = self._describe(resp)
                if status == 429:
                    ra = retry_after_seconds(resp.headers.get("retry-after"))
                    if ra is not None and ra > self.policy.max_retry_after:
                        raise self._fail(endpoint, f"{problem} (retry after {ra:g} s)", status)
                    wait = ra if ra is not None else self._backoff(attempt)
                elif status >= 500:
                    wait = self._backoff(attempt)
                else:
                    raise self._fail(endpoint, problem, status)
            if attempt >= self.policy.max_retries:
                tries = f"{attempt + 1} attempt" + ("s" if attempt else "")
                if status is None:
                    self._down[self.base_url] = problem
                raise self._fail(endpoint, f"{problem} ({tries})", status)
            if self._clock() + wait >= self._deadline:
                if status is None:
                    self._down[self.base_url] = problem
                raise self._fail(endpoint, f"{problem} (no time left to retry)", status)
            self._sleep(wait)
            attempt += 1

    def _describe(self, resp: httpx.Response) -> str:
        status = resp.status_code
        hint = _STATUS_HINT.get(status) or ("server error" if status >= 500 else "error")
        msg = upstream_message(resp.content[:65536], self.redact)
        return f"HTTP {status} {hint}" + (f": {msg}" if msg else "")

    def _decode(self, endpoint: str, resp: httpx.Response) -> Any:
        body = resp.content
        if len(body) > MAX_BODY_BYTES:
            raise self._fail(endpoint, f"response too large ({len(body)} bytes)", resp.status_code)
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            ctype = resp.headers.get("content-type", "no content type").split(";")[0]
            raise self._fail(endpoint, f"response is not JSON ({ctype}, {len(body)} bytes)") from None

    def paginate(self, endpoint: str, params: Params = ()) -> list[Any]:
        """Follow ``has_more`` / ``next_page`` (OpenAI and Anthropic) to the end and return every
        item of ``data``. A repeated cursor or too many pages is an error, not an endless loop."""
        items: list[Any] = []
        seen: set[str] = set()
        page: str | None = None
        for _ in range(self.policy.max_pages):
            body = self.get_json(endpoint, [*params, *([("page", page)] if page else [])])
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise self._fail(endpoint, "unexpected response shape: no 'data' list")
            items.extend(body["data"])
            if not body.get("has_more"):
                return items
            nxt = body.get("next_page")
            if not isinstance(nxt, str) or not nxt:
                raise self._fail(endpoint, "unexpected response shape: has_more without next_page")
            if nxt in seen:
                raise self._fail(endpoint, f"pagination loop: the server sent a cursor again after {len(seen) + 1} pages")
            seen.add(nxt)
            page = nxt
        raise self._fail(endpoint, f"gave up: more than {self.policy.max_pages} pages")
