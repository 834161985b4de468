"""Local HTTP servers (127.0.0.1, port 0) that answer like the providers' billing APIs, with the
documented bodies, auth rules, error envelopes and pagination of ``reference/provider-apis.md``, plus
injectable faults. Each server records every request it saw (path, query, headers)."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DAY = timedelta(days=1)


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    host: str

    def q(self, name: str, default: str | None = None) -> str | None:
        vals = self.query.get(name) or self.query.get(name + "[]")
        return vals[0] if vals else default

    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    kind: str  # status | timeout | slow | nonjson | shape | loop
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = None  # None: every request
    path: str = ""  # only requests whose path starts with this
    delay: float = 2.0


class FakeServer:
    def __init__(self, app: Callable[[Request], Response]) -> None:
        self.app = app
        self.seen: list[Request] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall

            def log_message(self, *a: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)  # absolute form too (when the client came through a proxy)
                req = Request(parts.path, parse_qs(parts.query, keep_blank_values=True),
                              {k.lower(): v for k, v in self.headers.items()}, parts.hostname or self.headers.get("Host", ""))
                with outer._lock:
                    outer.seen.append(req)
                    fault = outer._fault(req)
                resp = outer._apply(fault, req) if fault else outer.app(req)
                if resp is None:
                    return
                body = resp.body if isinstance(resp.body, bytes) else json.dumps(resp.body).encode()
                try:
                    self.send_response(resp.status)
                    headers = {"Content-Type": "application/json", **resp.headers}
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, prefix: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{prefix}"

    def _fault(self, req: Request) -> Fault | None:
        for f in self.faults:
            if req.path.startswith(f.path) and (f.times is None or f.times > 0):
                if f.times is not None:
                    f.times -= 1
                return f
        return None

    def _apply(self, f: Fault, req: Request) -> Response | None:
        if f.kind == "timeout":
            time.sleep(f.delay)
            return Response(200, {})
        if f.kind == "slow":  # late, but the right answer
            time.sleep(f.delay)
            return self.app(req)
        if f.kind == "nonjson":
            return Response(200, b"<html><body>502 Bad Gateway</body></html>", {"Content-Type": "text/html"})
        if f.kind == "shape":
            return Response(200, {"unexpected": "shape", "items": [1, 2]})
        if f.kind == "loop":
            return Response(200, {"object": "page", "data": [], "has_more": True, "next_page": "page_bG9vcA=="})
        return Response(f.status, f.body, f.headers)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# -- pagination shared by OpenAI and Anthropic --------------------------------------------------------------


def _cursor(i: int) -> str:
    return "page_" + base64.b64encode(str(i).encode()).decode()


def _uncursor(c: str | None) -> int:
    return int(base64.b64decode(c[5:]).decode()) if c else 0


def daily_pages(req: Request, first: date, last_excl: date, make: Callable[[date], dict[str, Any]], page_size: int) -> Response:
    """Day buckets from ``first`` up to ``last_excl``, ``min(limit, page_size)`` per page, with empty
    days present, ``has_more``/``next_page`` cursors."""
    limit = int(req.q("limit") or 7)
    per = max(1, min(limit, page_size))
    days = []
    d = first
    while d < last_excl:
        days.append(d)
        d += DAY
    i = _uncursor(req.q("page"))
    chunk = days[i : i + per]
    more = i + per < len(days)
    return Response(200, {"object": "page", "data": [make(x) for x in chunk], "has_more": more,
                          "next_page": _cursor(i + per) if more else None})


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts, tz=UTC).date()


def _epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def _iso(d: date) -> str:
    return f"{d.isoformat()}T00:00:00Z"


# -- OpenAI ----------------------------------------------------------------------------------------------------

OPENAI_SCOPE = {"error": {"message": "You have insufficient permissions for this operation. Missing scopes: api.usage.read. Check that you have the correct role in your organization, and if you're using a restricted API key, that it has the necessary scopes.", "type": "invalid_request_error", "param": None, "code": None}}


@dataclass
class OpenAIData:
    admin_key: str
    completions: dict[date, list[dict[str, Any]]] = field(default_factory=dict)
    embeddings: dict[date, list[dict[str, Any]]] = field(default_factory=dict)
    costs: dict[date, list[tuple[str, float]]] = field(default_factory=dict)  # (line item, dollars)
    spend_limit_cents: int | None = 10000
    page_size: int = 10


def openai_app(data: OpenAIData) -> Callable[[Request], Response]:
    def app(req: Request) -> Response:
        key = req.bearer()
        if key != data.admin_key:
            if key and key.startswith("sk-proj"):
                return Response(403, OPENAI_SCOPE)
            return Response(401, {"error": {"message": f"Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com/account/api-keys.", "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}})
        if req.path == "/v1/organization/spend_limit":
            if data.spend_limit_cents is None:
                return Response(404, {"error": {"message": "Not found", "type": "invalid_request_error", "param": None, "code": None}})
            return Response(200, {"object": "organization.spend_limit", "threshold_amount": data.spend_limit_cents, "currency": "USD", "interval": "month", "enforcement": {"status": "enforcing"}})
        start = req.q("start_time")
        if start is None:
            return Response(400, {"error": {"message": "start_time is required", "type": "invalid_request_error", "param": "start_time", "code": None}})
        first = _day(int(start))
        end = req.q("end_time")
        last = _day(int(end)) if end else first + 7 * DAY
        group = req.query.get("group_by[]", []) + req.query.get("group_by", [])
        if req.path in ("/v1/organization/usage/completions", "/v1/organization/usage/embeddings"):
            kind = req.path.rsplit("/", 1)[1]
            table = data.completions if kind == "completions" else data.embeddings

            def make(d: date) -> dict[str, Any]:
                rows = [{"object": f"organization.usage.{kind}.result", "project_id": None, "user_id": None, "api_key_id": None,
                         **r, "model": r.get("model") if "model" in group else None} for r in table.get(d, [])]
                return {"object": "bucket", "start_time": _epoch(d), "end_time": _epoch(d + DAY), "results": rows}

            return daily_pages(req, first, last, make, data.page_size)
        if req.path == "/v1/organization/costs":
            def make_cost(d: date) -> dict[str, Any]:
                rows = [{"object": "organization.costs.result", "amount": {"value": v, "currency": "usd"},
                         "line_item": li if "line_item" in group else None, "project_id": None, "api_key_id": None,
                         "quantity": None, "quantity_unit": None} for li, v in data.costs.get(d, [])]
                return {"object": "bucket", "start_time": _epoch(d), "end_time": _epoch(d + DAY), "results": rows}

            return daily_pages(req, first, last, make_cost, data.page_size)
        return Response(404, {"error": {"message": f"Invalid URL (GET {req.path})", "type": "invalid_request_error", "param": None, "code": None}})

    return app


# -- Anthropic ---------------------------------------------------------------------------------------------------


def anthropic_error(status: int, kind: str, message: str) -> Response:
    return Response(status, {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"})


@dataclass
class AnthropicData:
    admin_key: str
    usage: dict[date, list[dict[str, Any]]] = field(default_factory=dict)
    costs: dict[date, list[tuple[str, str, str]]] = field(default_factory=dict)  # (model, token_type, cents string)
    page_size: int = 7


def anthropic_app(data: AnthropicData) -> Callable[[Request], Response]:
    def app(req: Request) -> Response:
        if req.headers.get("x-api-key") != data.admin_key:
            return anthropic_error(401, "authentication_error", "invalid x-api-key")
        if req.headers.get("anthropic-version") != "2023-06-01":
            return anthropic_error(400, "invalid_request_error", "anthropic-version header is required")
        start = req.q("starting_at")
        if not start:
            return anthropic_error(400, "invalid_request_error", "starting_at is required")
        first = date.fromisoformat(start[:10])
        end = req.q("ending_at")
        last = date.fromisoformat(end[:10]) if end else first + 7 * DAY
        group = req.query.get("group_by[]", [])
        if req.path == "/v1/organizations/usage_report/messages":
            def make(d: date) -> dict[str, Any]:
                rows = [{"server_tool_use": {"web_search_requests": 0}, "api_key_id": None, "workspace_id": None,
                         "service_tier": None, "context_window": None, **r,
                         "model": r.get("model") if "model" in group else None} for r in data.usage.get(d, [])]
                return {"starting_at": _iso(d), "ending_at": _iso(d + DAY), "results": rows}

            return daily_pages(req, first, last, make, data.page_size)
        if req.path == "/v1/organizations/cost_report":
            def make_cost(d: date) -> dict[str, Any]:
                rows = []
                for model, token_type, cents in data.costs.get(d, []):
                    by_desc = "description" in group
                    rows.append({"amount": cents, "currency": "USD", "cost_type": "tokens" if by_desc else None,
                                 "description": f"{model} Usage - {token_type}" if by_desc else None,
                                 "model": model if by_desc else None, "token_type": token_type if by_desc else None,
                                 "service_tier": "standard" if by_desc else None, "context_window": "0-200k" if by_desc else None,
                                 "inference_geo": "global" if by_desc else None, "workspace_id": None})
                return {"starting_at": _iso(d), "ending_at": _iso(d + DAY), "results": rows}

            return daily_pages(req, first, last, make_cost, data.page_size)
        return anthropic_error(404, "not_found_error", "The requested resource could not be found.")

    return app


# -- OpenRouter --------------------------------------------------------------------------------------------------


@dataclass
class OpenRouterData:
    api_key: str
    management_key: str | None = None
    key: dict[str, Any] = field(default_factory=dict)
    credits: dict[str, Any] = field(default_factory=lambda: {"total_credits": 100.5, "total_usage": 25.75})
    activity: list[dict[str, Any]] = field(default_factory=list)


def openrouter_err(code: int, message: str) -> Response:
    return Response(code, {"error": {"code": code, "message": message}})


def openrouter_app(data: OpenRouterData) -> Callable[[Request], Response]:
    def app(req: Request) -> Response:
        key = req.bearer()
        if key not in (data.api_key, data.management_key) or key is None:
            return openrouter_err(401, "Missing Authentication header" if key is None else "No auth credentials found")
        mgmt = key == data.management_key
        if req.path == "/api/v1/key":
            label = f"{key[:11]}...{key[-3:]}"  # the real API echoes part of the key here
            return Response(200, {"data": {"label": label, "is_management_key": mgmt, "is_provisioning_key": mgmt,
                                           "creator_user_id": "user_2dHFtVWx2n56w6HkM0000000000", **data.key}})
        if req.path in ("/api/v1/credits", "/api/v1/activity"):
            if not mgmt:
                return openrouter_err(403, "Only management keys can perform this operation")
            if req.path == "/api/v1/credits":
                return Response(200, {"data": data.credits})
            return Response(200, {"data": data.activity})
        return openrouter_err(404, "Not Found")

    return app


# -- Moonshot and DeepSeek ------------------------------------------------------------------------------------


@dataclass
class BalanceData:
    key: str
    body: dict[str, Any]
    path: str


def balance_app(data: BalanceData, unauthorized: dict[str, Any]) -> Callable[[Request], Response]:
    def app(req: Request) -> Response:
        if req.bearer() != data.key:
            return Response(401, unauthorized)
        if req.path != data.path:
            return Response(404, {"error": {"message": "Not Found", "type": "not_found"}})
        return Response(200, data.body)

    return app


def moonshot_body(available: float, voucher: float, cash: float) -> dict[str, Any]:
    return {"code": 0, "data": {"available_balance": available, "voucher_balance": voucher, "cash_balance": cash},
            "scode": "0x0", "status": True}


MOONSHOT_401 = {"error": {"message": "Invalid Authentication", "type": "invalid_authentication_error"}}
DEEPSEEK_401 = {"error": {"message": "Authentication Fails, Your api key: ****abcd is invalid", "type": "authentication_error", "param": None, "code": "invalid_request_error"}}
