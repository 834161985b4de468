"""Local stand-ins for the probed services, on loopback with ports chosen by the OS.

The bodies reproduce the documented responses: Ollama ``/api/tags`` and ``/api/ps`` (the OpenAPI examples
at docs.ollama.com/api/tags and /api/ps), ChromaDB v2 heartbeat and collections_count (chroma-core/chroma
``rust/frontend/src/server.rs``: ``{"nanosecond heartbeat": n}`` and a bare integer), and the OpenClaw
gateway ``/healthz`` (``{"ok":true,"status":"live"}``, reference/openclaw-plugin-api.md).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GEMMA3_TAGS = {
    "name": "gemma3", "model": "gemma3", "modified_at": "2025-10-03T23:34:03.409490317-07:00",
    "size": 3338801804, "digest": "a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a",
    "details": {"format": "gguf", "family": "gemma", "families": ["gemma"], "parameter_size": "4.3B",
                "quantization_level": "Q4_K_M"},
}
QWEN_TAGS = {
    "name": "qwen2.5-coder:7b", "model": "qwen2.5-coder:7b", "modified_at": "2025-09-12T10:01:02.5-07:00",
    "size": 4683087332, "digest": "2b0496514337a3d5901f1d253d01726c890b721e891335a56d6e08cedf3e2cb0",
    "details": {"parent_model": "", "format": "gguf", "family": "qwen2", "families": ["qwen2"],
                "parameter_size": "7.6B", "quantization_level": "Q4_K_M"},
}
OLLAMA_TAGS = {"models": [GEMMA3_TAGS, QWEN_TAGS]}
OLLAMA_PS = {"models": [{
    "name": "gemma3", "model": "gemma3", "size": 6591830464,
    "digest": "a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a",
    "details": {"parent_model": "", "format": "gguf", "family": "gemma3", "families": ["gemma3"],
                "parameter_size": "4.3B", "quantization_level": "Q4_K_M"},
    "expires_at": "2025-10-17T16:47:07.93355-07:00", "size_vram": 5333539264, "context_length": 4096,
}]}
CHROMA_HEARTBEAT = {"nanosecond heartbeat": 1763845200123456789}
GATEWAY_HEALTHZ = {"ok": True, "status": "live"}


class Routes(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, Any]] = {}
    seen: list[tuple[str, dict[str, str]]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).seen.append((self.path, dict(self.headers)))
        status, body = self.routes.get(self.path, (404, {"error": "NotFound", "message": "no route"}))
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass


@contextmanager
def serve(routes: dict[str, tuple[int, Any]]) -> Iterator[tuple[str, list]]:
    """An HTTP server answering ``routes`` (path → (status, JSON body or raw bytes)); yields its base URL
    and the list of (path, headers) it received."""
    handler = type("H", (Routes,), {"routes": routes, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.seen
    finally:
        server.shutdown()
        server.server_close()
        t.join(5)


def ollama_routes(tags: Any = OLLAMA_TAGS, ps: Any = OLLAMA_PS) -> dict[str, tuple[int, Any]]:
    return {"/api/tags": (200, tags), "/api/ps": (200, ps)}


def chroma_routes(count: Any = 7, tenant: str = "default_tenant", db: str = "default_database") -> dict[str, tuple[int, Any]]:
    return {
        "/api/v2/heartbeat": (200, CHROMA_HEARTBEAT),
        f"/api/v2/tenants/{tenant}/databases/{db}/collections_count": (200, count),
    }


@contextmanager
def hanging_port() -> Iterator[str]:
    """A port that accepts connections (the kernel completes them) and never answers."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    try:
        yield f"http://127.0.0.1:{s.getsockname()[1]}"
    finally:
        s.close()


def dead_port() -> str:
    """A port nothing listens on (bound then released, so it is free and refuses)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"
