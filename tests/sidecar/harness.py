"""A real sidecar for tests: ``tokendash.server.main.Sidecar`` on its own event loop in a background
thread, listening on loopback ports chosen by the kernel, with a fresh App on a temp home; and thin
JSON-RPC (http.client, keep-alive) and gRPC clients for it."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc

from tokendash.api.codec import request_class, response_class
from tokendash.app import App
from tokendash.config.settings import load_settings
from tokendash.server.main import Bound, Sidecar

SERVICE = "/tokendash.v1.TokenDashboardService/"


def make_app(tmp: Path, claude: Path | None = None, **settings: Any) -> App:
    empty = tmp / "empty"
    empty.mkdir(exist_ok=True)
    return App(load_settings(**{
        "home": tmp / "home", "http_addr": "127.0.0.1:0", "grpc_addr": "127.0.0.1:0", "timezone": "UTC",
        "claude_config_dir": str(claude or empty), "codex_home": str(empty), "openclaw_state_dir": str(empty),
        **settings,
    }))


def recent_day(days_ago: int = 0) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%d")


class RunningSidecar:
    def __init__(self, app: App, sources: list[Any] | None = None) -> None:
        self.sidecar = Sidecar(app, sources)
        self.bound: Bound | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="test-sidecar", daemon=True)
        self._conn: http.client.HTTPConnection | None = None
        self._channel: grpc.Channel | None = None

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            self._stop = asyncio.Event()

            def ready(b: Bound) -> None:
                self.bound = b
                self._ready.set()

            loop.run_until_complete(self.sidecar.run(self._stop, ready))
        except BaseException as e:  # surfaced by start()
            self._error = e
            self._ready.set()
        finally:
            loop.close()

    def start(self, timeout: float = 30) -> RunningSidecar:
        self._thread.start()
        assert self._ready.wait(timeout), "sidecar did not start"
        if self._error:
            raise self._error
        return self

    def stop(self, timeout: float = 30) -> None:
        if self._conn:
            self._conn.close()
        if self._channel:
            self._channel.close()
        if self._loop and self._stop and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "sidecar did not stop"

    @property
    def token(self) -> str:
        assert self.bound
        return self.bound.token

    @property
    def ctx(self) -> Any:
        return self.sidecar.ctx

    # -- HTTP ---------------------------------------------------------------------------------

    def post(self, body: bytes, token: str | None = "", path: str = "/rpc",
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        assert self.bound
        if self._conn is None:
            self._conn = http.client.HTTPConnection(*self.bound.http, timeout=30)
            self._conn.connect()
            # http.client writes headers and body separately: without this, Nagle + delayed ACK cost 40 ms.
            self._conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        h = {"Content-Type": "application/json", **(headers or {})}
        tok = self.token if token == "" else token
        if tok is not None:
            h["Authorization"] = f"Bearer {tok}"
        try:
            self._conn.request("POST", path, body, h)
            r = self._conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException):
            self._conn.close()
            self._conn = None
            raise
        if r.getheader("connection", "").lower() == "close":
            self._conn.close()
            self._conn = None
        return r.status, data

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        assert self.bound
        conn = http.client.HTTPConnection(*self.bound.http, timeout=30)
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def rpc_raw(self, method: str, params: Any = None, token: str | None = "") -> dict[str, Any]:
        req: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
        if params is not None:
            req["params"] = params
        status, body = self.post(json.dumps(req).encode(), token)
        assert status in (200, 401), (status, body)
        return json.loads(body)

    def rpc(self, method: str, params: Any = None) -> Any:
        msg = self.rpc_raw(method, params)
        assert "error" not in msg, msg
        return msg["result"]

    # -- gRPC ---------------------------------------------------------------------------------

    def grpc_call(self, rpc: str, request: Any = None, token: str | None = "", raw: bytes | None = None,
                  timeout: float = 30) -> Any:
        """The response message; raises grpc.RpcError on a status other than OK."""
        assert self.bound and self.bound.grpc
        if self._channel is None:
            self._channel = grpc.insecure_channel(f"{self.bound.grpc[0]}:{self.bound.grpc[1]}")
        call = self._channel.unary_unary(SERVICE + rpc)
        payload = raw if raw is not None else (request or request_class(rpc)()).SerializeToString()
        tok = self.token if token == "" else token
        md = (("authorization", f"Bearer {tok}"),) if tok is not None else ()
        return response_class(rpc).FromString(call(payload, metadata=md, timeout=timeout))


def serve_process(cli: Any) -> tuple[subprocess.Popen[str], str]:
    """``tokendash serve`` as a real process (a ``tests.support.Cli``), on a kernel-chosen port;
    returns the process and its URL."""
    return wait_listening(cli.popen("serve", "--http-addr", "127.0.0.1:0", "--grpc-addr", "off"))


def wait_listening(p: subprocess.Popen[str]) -> tuple[subprocess.Popen[str], str]:
    """Wait for a ``tokendash serve`` process's listening banner; returns the process and its URL."""
    assert p.stderr is not None
    deadline = time.monotonic() + 30
    seen = []
    while time.monotonic() < deadline:
        line = p.stderr.readline()
        seen.append(line)
        m = re.search(r"listening http=(\S+)", line)
        if m:
            return p, f"http://{m.group(1)}"
        if not line and p.poll() is not None:
            break
    p.kill()
    raise AssertionError(f"sidecar did not start: {''.join(seen)}{p.stderr.read()}")
