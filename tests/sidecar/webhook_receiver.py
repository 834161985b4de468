"""A webhook receiver for tests: ``http.server`` on 127.0.0.1, recording every request and answering as
told (200, a status, or 429 with ``Retry-After``), and able to stop and start on the same port (so a
sender first meets a refused connection)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: Any
    at: float  # time.monotonic()
    status: int  # what we answered

    @property
    def delivery_id(self) -> str | None:
        return self.headers.get("x-tokendash-delivery-id")


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    hits: list[Hit] = field(default_factory=list)
    # (path, number of earlier hits on that path) -> (status, headers); default 200
    answer: Callable[[str, int], tuple[int, dict[str, str]]] = lambda path, n: (200, {})
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                with rec._lock:
                    n = sum(1 for h in rec.hits if h.path == self.path)
                    status, headers = rec.answer(self.path, n)
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        body = raw.decode(errors="replace")
                    rec.hits.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                                        time.monotonic(), status))
                payload = b'{"ok":true}' if status < 300 else b'{"ok":false}'
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def on(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path == path]

    def accepted(self, path: str | None = None) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if 200 <= h.status < 300 and (path is None or h.path == path)]

    def wait(self, cond: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out; hits so far: {[(h.path, h.status) for h in self.hits]}")
