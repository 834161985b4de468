"""Hello-world servers on the sidecar's own stacks, the anchors of ``sidecar_bench.py``:

    sidecar_hello.py http HOST:PORT   uvicorn (httptools, uvloop, the same options and listening socket
                                      as ``tokendash serve``) answering every POST /rpc with a tiny
                                      JSON-RPC result
    sidecar_hello.py grpc HOST:PORT   grpc.aio with one unary method returning a tiny message

Prints ``listening PORT`` on stdout when ready.
"""

from __future__ import annotations

import asyncio
import sys

BODY = b'{"jsonrpc":"2.0","id":1,"result":"hello"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def hello_app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
    if scope["type"] != "http":
        return
    while True:  # read the request body, as the sidecar does
        msg = await receive()  # type: ignore[operator]
        if not msg.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": BODY})  # type: ignore[operator]


async def http(host: str, port: int) -> None:
    import uvicorn

    from tokendash.server.main import _listen, _Uvicorn

    sock = _listen(host, port)
    server = _Uvicorn(uvicorn.Config(hello_app, lifespan="off", http="httptools", access_log=False,
                                     log_level="warning", server_header=False, timeout_keep_alive=30))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    print(f"listening {sock.getsockname()[1]}", flush=True)
    await task


async def grpc_hello(host: str, port: int) -> None:
    import grpc
    from grpc import aio

    async def hello(request: bytes, context: object) -> bytes:
        return b"\n\x05hello"

    server = aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "bench.Hello", {"Hello": grpc.unary_unary_rpc_method_handler(hello)}),))
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    print(f"listening {bound}", flush=True)
    await server.wait_for_termination()


def main() -> None:
    import uvloop

    kind, addr = sys.argv[1], sys.argv[2]
    host, _, port = addr.rpartition(":")
    uvloop.run(http(host, int(port)) if kind == "http" else grpc_hello(host, int(port)))


if __name__ == "__main__":
    main()
