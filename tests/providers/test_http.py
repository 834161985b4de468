"""The shared HTTP layer against a real local server: Retry-After, backoff with jitter and a cap,
retries that stop, pagination to the end with a loop guard, no redirects, redacted error text."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.providers.fakes import FakeServer, Fault, Request, Response, daily_pages
from tokendash.providers.http import HttpPolicy, ProviderError, ProviderHttp, Redactor, retry_after_seconds

SECRET = "sk-admin-SENTINELhttp00000000000000000000000000009"


def ok(req: Request) -> Response:
    if req.path == "/redirect":
        return Response(302, b"", {"Location": "http://example.invalid/steal"})
    if req.path == "/pages":
        from datetime import date

        return daily_pages(req, date(2026, 11, 1), date(2026, 11, 23), lambda d: {"day": d.isoformat()}, 5)
    return Response(200, {"ok": True})


@pytest.fixture
def server() -> Iterator[FakeServer]:
    s = FakeServer(ok)
    try:
        yield s
    finally:
        s.close()


def client(server: FakeServer, **policy: float) -> ProviderHttp:
    p = HttpPolicy(**{"connect_timeout": 0.5, "read_timeout": 0.5, "deadline": 10, "max_retries": 2, "backoff": 0.05,
                      "backoff_cap": 0.2, "max_retry_after": 5, **policy})  # type: ignore[arg-type]
    return ProviderHttp("fake", server.url(), {"Authorization": f"Bearer {SECRET}"}, p, [SECRET])


def test_retry_after_is_honoured_then_the_answer_is_used(server: FakeServer) -> None:
    server.faults = [Fault("status", 429, {"error": {"message": "Rate limit exceeded"}}, {"Retry-After": "1"}, times=1)]
    with client(server) as c:
        t0 = time.monotonic()
        assert c.get_json("/x") == {"ok": True}
        assert time.monotonic() - t0 >= 1.0
        assert c.requests == 2


def test_retry_after_as_an_http_date() -> None:
    assert retry_after_seconds("Sun, 22 Nov 2026 12:00:30 GMT", now=1_795_348_800.0) == pytest.approx(30)
    assert retry_after_seconds("soon") is None and retry_after_seconds("-3") == 0


def test_5xx_and_529_are_retried_with_capped_jittered_backoff(server: FakeServer) -> None:
    sleeps: list[float] = []
    server.faults = [Fault("status", 529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, times=3)]
    c = client(server, max_retries=3, backoff=0.1, backoff_cap=0.15)
    c._sleep = sleeps.append  # record instead of waiting: the policy is what is checked here
    assert c.get_json("/x") == {"ok": True}
    assert c.requests == 4 and len(sleeps) == 3
    # attempt n waits within [d/2, d] for d = min(cap, base * 2^n): 0.1, 0.15 (capped), 0.15
    assert 0.05 <= sleeps[0] <= 0.1 and all(0.075 <= s <= 0.15 for s in sleeps[1:])


def test_retries_stop_and_the_error_says_how_often(server: FakeServer) -> None:
    server.faults = [Fault("status", 500, {"error": {"code": 500, "message": "Internal Server Error"}})]
    with client(server, max_retries=2) as c, pytest.raises(ProviderError) as e:
        c.get_json("/organization/costs")
    assert str(e.value) == "fake /organization/costs: HTTP 500 server error: Internal Server Error (3 attempts)"
    assert e.value.status == 500 and c.requests == 3


def test_client_errors_are_not_retried(server: FakeServer) -> None:
    server.faults = [Fault("status", 401, {"error": {"message": f"Incorrect API key provided: {SECRET}."}})]
    with client(server) as c, pytest.raises(ProviderError) as e:
        c.get_json("/x")
    assert c.requests == 1
    assert SECRET not in str(e.value) and "Incorrect API key provided: ****" in str(e.value)


def test_the_deadline_bounds_a_poll(server: FakeServer) -> None:
    server.faults = [Fault("timeout", delay=1.0)]
    with client(server, read_timeout=0.3, deadline=0.5, max_retries=5) as c, pytest.raises(ProviderError) as e:
        t0 = time.monotonic()
        c.get_json("/x")
    assert time.monotonic() - t0 < 1.5  # five retries of 0.3 s and their backoff would take longer
    assert "timed out" in str(e.value) or "time limit" in str(e.value)


def test_pagination_follows_every_page(server: FakeServer) -> None:
    with client(server) as c:
        days = c.paginate("/pages", [("limit", 31)])
    assert len(days) == 22 and days[0]["day"] == "2026-11-01" and days[-1]["day"] == "2026-11-22"
    assert c.requests == 5  # 22 buckets, 5 a page


def test_a_repeated_cursor_is_a_loop_not_an_endless_poll(server: FakeServer) -> None:
    server.faults = [Fault("loop")]
    with client(server) as c, pytest.raises(ProviderError, match="pagination loop"):
        c.paginate("/pages")
    assert c.requests == 2


def test_too_many_pages_is_an_error(server: FakeServer) -> None:
    with client(server, max_pages=3) as c, pytest.raises(ProviderError, match="more than 3 pages"):
        c.paginate("/pages", [("limit", 31)])
    assert c.requests == 3


def test_redirects_are_not_followed_so_a_key_never_leaves_its_origin(server: FakeServer) -> None:
    with client(server) as c, pytest.raises(ProviderError, match="HTTP 302"):
        c.get_json("/redirect")
    assert c.requests == 1


def test_redactor_removes_keys_and_bearer_tokens() -> None:
    r = Redactor(["my-secret-value-123"])
    assert r("x my-secret-value-123 y") == "x **** y"
    assert r("Authorization: Bearer abc.def") == "Authorization: Bearer ****"
    assert r("your key sk-proj-abcdef0123456789 is bad") == "your key **** is bad"
