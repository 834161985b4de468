"""A fake OpenAI-compatible LLM on loopback: streaming Chat Completions with a fixed usage chunk
(reference/openclaw-e2e.md §6.1), so the gateway's agent run has known tokens."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLY = "Hello from the fake LLM."
PROMPT_TOKENS = 1234
COMPLETION_TOKENS = 56
CACHED_TOKENS = 200


class FakeLLM:
    """Serves POST /v1/chat/completions; counts the requests it answered."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                body = b'{"ok":true}'
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                fake.requests.append({"path": self.path, "body": json.loads(raw or b"{}")})
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                        "model": "fake-model"}
                frames = [
                    {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                          "finish_reason": None}]},
                    {**base, "choices": [{"index": 0, "delta": {"content": REPLY}, "finish_reason": None}]},
                    {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                    {**base, "choices": [], "usage": {
                        "prompt_tokens": PROMPT_TOKENS, "completion_tokens": COMPLETION_TOKENS,
                        "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
                        "prompt_tokens_details": {"cached_tokens": CACHED_TOKENS},
                        "completion_tokens_details": {"reasoning_tokens": 0}}},
                ]
                for f in frames:
                    self.wfile.write(b"data: " + json.dumps(f).encode() + b"\n\n")
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
