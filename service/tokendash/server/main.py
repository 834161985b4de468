"""Start and stop order of the sidecar.

Start: token → loopback rule → store (migrated) and prices → in-memory dashboard and scheduler → HTTP
and gRPC listeners. Stop (SIGTERM or SIGINT): stop accepting calls and let the ones in flight finish,
let every source finish the batch it is writing, close the store, exit 0.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import uvicorn

from tokendash.server.auth import check_bind, load_or_create_token
from tokendash.server.grpc import build_server
from tokendash.server.http import HttpApp
from tokendash.server.jsonrpc import Dispatcher
from tokendash.server.runtime import ServerContext

log = logging.getLogger("tokendash.server")

STOP_WRITES_SECONDS = 20.0  # how long a source may take to finish the batch it is writing
GRACE_SECONDS = 3.0  # calls in flight at stop


@dataclass
class Bound:
    http: tuple[str, int]
    grpc: tuple[str, int] | None
    token: str


class _Uvicorn(uvicorn.Server):
    # The sidecar owns the signals (it must stop the scheduler after the listeners), not uvicorn.
    def install_signal_handlers(self) -> None:  # uvicorn < 0.29
        pass

    def capture_signals(self) -> Any:  # uvicorn >= 0.29
        import contextlib

        return contextlib.nullcontext()


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: the event loop sets TCP_NODELAY on accepted sockets only when the protocol says
    # TCP, and without it a response's headers and body wait 40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


class Sidecar:
    def __init__(self, app: Any, sources: list[Any] | None = None) -> None:
        self.app = app
        self.sources = sources
        self.ctx: ServerContext | None = None

    async def run(self, stop: asyncio.Event, on_ready: Callable[[Bound], None] | None = None) -> list[str]:
        """Serve until ``stop`` is set; returns the sources that were still busy at exit."""
        s = self.app.settings
        explicit = bool(s.token)
        token = load_or_create_token(s.home, s.token)
        http_host, http_port = check_bind(s.http_addr, explicit)
        grpc_at = None if s.grpc_addr.strip().lower() == "off" else check_bind(s.grpc_addr, explicit)
        loop = asyncio.get_running_loop()
        executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="tokendash-rpc")

        def open_store() -> None:
            _ = self.app.store  # opens and migrates before any thread writes
            self.app.prices.warm()

        await loop.run_in_executor(executor, open_store)
        ctx = self.ctx = ServerContext(self.app, self.sources)
        ctx.start()
        sock = _listen(http_host, http_port)
        config = uvicorn.Config(
            HttpApp(Dispatcher(ctx, executor), token, lambda: ctx.ready),
            lifespan="off", http="httptools", access_log=False, log_level="warning", server_header=False,
            timeout_graceful_shutdown=int(GRACE_SECONDS), timeout_keep_alive=30,
        )
        http = _Uvicorn(config)
        http_task = asyncio.create_task(http.serve(sockets=[sock]))
        grpc_server = None
        grpc_bound = None
        if grpc_at is not None:
            grpc_server, gport, checker = build_server(ctx, executor, token, *grpc_at)
            await grpc_server.start()
            from grpc_health.v1 import health_pb2

            for name in ("", "tokendash.v1.TokenDashboardService"):
                await checker.set(name, health_pb2.HealthCheckResponse.SERVING)
            grpc_bound = (grpc_at[0], gport)
        while not http.started and not http_task.done():
            await asyncio.sleep(0.01)
        bound = Bound((http_host, sock.getsockname()[1]), grpc_bound, token)
        if on_ready is not None:
            on_ready(bound)
        stop_task = asyncio.create_task(stop.wait())
        await asyncio.wait({stop_task, http_task}, return_when=asyncio.FIRST_COMPLETED)
        # Stop: no source starts another batch from now on; calls in flight finish; the batch being
        # written is committed; then the store is closed.
        ctx.scheduler.stopping.set()
        http.should_exit = True
        if grpc_server is not None:
            await grpc_server.stop(GRACE_SECONDS)
        await http_task
        stop_task.cancel()
        busy = await loop.run_in_executor(None, ctx.stop, STOP_WRITES_SECONDS)
        executor.shutdown(wait=False, cancel_futures=True)
        if busy:
            log.warning("sources still busy at exit (no write in progress): %s", ", ".join(busy))
        self.app.store.engine.dispose()
        return busy


def _limit_malloc_arenas() -> None:
    """glibc gives each of the sidecar's ~35 threads its own malloc arena, and their free pools made RSS
    creep under a long load while the Python heap stayed flat (tests/load/test_soak.py: +13 % in 60 s, flat
    at +6 % with two arenas). Two arenas cost nothing measurable here: the threads mostly wait on I/O."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def serve_forever(app: Any) -> int:
    """``tokendash serve``: run in the main thread until SIGTERM or SIGINT."""
    import signal

    _limit_malloc_arenas()

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("tokendash").setLevel(logging.INFO)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)

        def ready(b: Bound) -> None:
            grpc = f"{b.grpc[0]}:{b.grpc[1]}" if b.grpc else "off"
            print(f"tokendash sidecar listening http={b.http[0]}:{b.http[1]} grpc={grpc}", file=sys.stderr, flush=True)

        await Sidecar(app).run(stop, ready)

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
    print("tokendash sidecar stopped", file=sys.stderr, flush=True)
    return 0
