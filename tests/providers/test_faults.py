"""The fault matrix: every provider × 401, 403 (missing scope), 404, 429 with Retry-After, 500, 529,
timeout, connection refused, a non-JSON body, a wrong shape and a pagination loop. Each ends as a clear
source error naming provider, endpoint and problem; the other providers are unaffected; the last good
figures stay and are flagged stale; the requests sent stay within the retry budget.

(A pagination loop only applies to the paginated APIs, OpenAI and Anthropic: OpenRouter's, Moonshot's
and DeepSeek's endpoints have no cursor to loop on.)"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.providers.conftest import KEYS, NOW, World, make_world
from tests.providers.fakes import OPENAI_SCOPE, Fault, closed_port
from tokendash import providers

PROVIDERS = ["openai", "anthropic", "openrouter", "moonshot", "deepseek"]
PAGINATED = {"openai", "anthropic"}
ENDPOINTS = {"openai": 4, "anthropic": 2, "openrouter": 3, "moonshot": 1, "deepseek": 1}
RETRIES = 1  # provider_max_retries in the test settings
BASE_KEY = {p: f"{p}_base_url" for p in PROVIDERS}
BASE_PATH = {"openai": "/v1", "anthropic": "", "openrouter": "/api/v1", "moonshot": "/v1", "deepseek": ""}


def error_body(provider: str, status: int, message: str) -> dict[str, Any]:
    """Each provider's documented error envelope."""
    kinds = {401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error",
             500: "api_error", 529: "overloaded_error"}
    if provider == "openai":
        return OPENAI_SCOPE if status == 403 else {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
    if provider == "anthropic":
        return {"type": "error", "error": {"type": kinds[status], "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}
    if provider == "openrouter":
        msg = "Only management keys can perform this operation" if status == 403 else message
        return {"error": {"code": status, "message": msg}}
    return {"error": {"message": message, "type": kinds[status], "param": None, "code": None}}


FAULTS: dict[str, tuple[str, str]] = {
    # name: (how it is made, what the error must say)
    "401": ("status", "HTTP 401 key rejected"),
    "403": ("status", "HTTP 403 permission denied"),
    "404": ("status", "HTTP 404 not found"),
    "429": ("status", "HTTP 429 rate limited"),
    "500": ("status", "HTTP 500 server error"),
    "529": ("status", "HTTP 529 overloaded"),
    "timeout": ("timeout", "timed out after 0.5 s"),
    "refused": ("refused", "connection refused"),
    "nonjson": ("nonjson", "response is not JSON (text/html"),
    "shape": ("shape", "unexpected response shape"),
    "loop": ("loop", "pagination loop"),
}
CASES = [(p, f) for p in PROVIDERS for f in FAULTS if f != "loop" or p in PAGINATED]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Path]]:
    """The fakes, and a store holding one good poll of every provider (copied for each case)."""
    tmp = tmp_path_factory.mktemp("matrix")
    with pytest.MonkeyPatch.context() as mp, make_world(tmp, mp) as w:
        app = w.app()
        assert all(r.ok for r in providers.poll(app, now_ms=NOW - 10 * 60_000))
        app.store.engine.dispose()
        yield w, tmp / "home" / "tokendash.db"


def good_figures(entry: dict[str, Any]) -> tuple[Any, ...]:
    u = entry["currentUsage"]
    return u["billedCostUsd"], u["balanceUsd"], u["balance"], u["balances"], u["creditLimitUsd"], u["limitRemainingUsd"]


@pytest.mark.parametrize(("provider", "fault"), CASES, ids=[f"{p}-{f}" for p, f in CASES])
def test_fault_is_a_clear_isolated_bounded_source_error(
    matrix: tuple[World, Path], tmp_path: Path, provider: str, fault: str
) -> None:
    world, template = matrix
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(template, home / "tokendash.db")
    over: dict[str, Any] = {"home": home, "database_url": f"sqlite:///{home / 'tokendash.db'}"}
    server = world.servers[provider]
    kind, expect = FAULTS[fault]
    if kind == "status":
        status = int(fault)
        headers = {"Retry-After": "30"} if status == 429 else {}  # longer than the 5 s we may wait: give up now
        server.faults = [Fault("status", status, error_body(provider, status, f"upstream said {fault}"), headers)]
    elif kind == "refused":
        over[BASE_KEY[provider]] = f"http://127.0.0.1:{closed_port()}{BASE_PATH[provider]}"
    else:
        server.faults = [Fault(kind, delay=1.5)]
    app = world.app(**over)
    before = {p: e for p, e in ((e["providerId"], e) for e in providers.provider_statuses(app, NOW))}
    seen = {p: len(s.seen) for p, s in world.servers.items()}
    try:
        t0 = time.monotonic()
        results = {r.source: r for r in providers.poll(app, now_ms=NOW)}
        took = time.monotonic() - t0
    finally:
        for s in world.servers.values():
            s.faults = []
        app.store.engine.dispose()

    bad = results[provider]
    assert not bad.ok and bad.items == 0
    assert bad.error and bad.error.startswith(f"{provider} /") and expect in bad.error, bad.error
    assert not bad.error.startswith("partial"), bad.error  # every endpoint failed, none silently
    assert all(not any(v in bad.error for v in KEYS.values()) for _ in [0])
    if fault == "429":
        assert "retry after 30 s" in bad.error
    others = {p: r for p, r in results.items() if p != provider}
    assert all(r.ok and r.error is None for r in others.values()), {p: r.error for p, r in others.items()}

    # Bounded: at most (retries + 1) requests per endpoint, and a host that does not answer at all is
    # not asked again for its other endpoints.
    sent = len(server.seen) - seen[provider]
    assert sent <= ENDPOINTS[provider] * (RETRIES + 1)
    if fault == "timeout":
        assert sent == RETRIES + 1
    assert took < 6

    after = {e["providerId"]: e for e in providers.provider_statuses(app, NOW)}
    st = after[provider]
    assert st["stale"] and not st["isReachable"] and expect in st["error"]
    assert good_figures(st) == good_figures(before[provider])  # the last good figures stay
    assert all(not after[p]["stale"] and after[p]["isReachable"] for p in others)
    info = {i["id"]: i for i in providers.provider_infos(app, NOW)}[provider]
    assert info["lastSuccess"] == "2026-11-22T11:50:00.000Z" and info["lastChecked"] == "2026-11-22T12:00:00.000Z"
    assert info["stale"] and all(not e["ok"] for e in info["endpoints"])


def test_transient_429_and_529_are_waited_out_on_every_provider_at_once(world: World) -> None:
    """One 429 with ``Retry-After: 1`` at each provider (all at the same time), then one 529: every poll
    still succeeds, after waiting the second the servers asked for, with one extra request each."""
    for name, server in world.servers.items():
        server.faults = [Fault("status", 429, error_body(name, 429, "Rate limit exceeded"), {"Retry-After": "1"}, times=1),
                         Fault("status", 529, error_body(name, 529, "Overloaded"), times=1)]
    app = world.app(provider_max_retries=2)  # the retry budget is per request: 429, then 529, then the answer
    t0 = time.monotonic()
    results = providers.poll(app, now_ms=NOW)
    took = time.monotonic() - t0
    assert all(r.ok for r in results), [r.error for r in results]
    assert 1.0 <= took < 3.0  # waited once, concurrently, not once per provider
    normal = {"openai": 13, "anthropic": 10, "openrouter": 3, "moonshot": 1, "deepseek": 1}
    assert world.requests() == {p: n + 2 for p, n in normal.items()}
    st = {e["providerId"]: e for e in providers.provider_statuses(app, NOW)}
    assert st["openai"]["currentUsage"]["billedCostUsd"] == 26.25 and st["deepseek"]["isReachable"]
