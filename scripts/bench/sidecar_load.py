"""Load generator for ``sidecar_bench.py``, run as its own process: N concurrent clients, each on its
own keep-alive connection (HTTP) or its own HTTP/2 channel (gRPC), for a fixed time after a
warm-up. Prints one JSON line: requests, seconds, rps, p50/p90/p99/max latency in ms, errors.

    sidecar_load.py http URL TOKEN BODY SECONDS CLIENTS
    sidecar_load.py grpc HOST:PORT TOKEN METHOD SECONDS CLIENTS
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time

WARMUP = 1.0


def summary(lat: list[float], seconds: float, errors: int) -> dict:
    lat.sort()

    def pct(p: float) -> float:
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 3) if lat else 0.0

    return {"requests": len(lat), "seconds": round(seconds, 3), "rps": round(len(lat) / seconds, 1),
            "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99), "max_ms": pct(1.0), "errors": errors}


async def http_load(url: str, token: str, body: bytes, seconds: float, clients: int) -> dict:
    from urllib.parse import urlsplit

    u = urlsplit(url)
    req = (f"POST /rpc HTTP/1.1\r\nHost: {u.hostname}\r\nContent-Type: application/json\r\n"
           f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    lat: list[float] = []
    errors = 0
    start = time.perf_counter()
    measure_from = start + WARMUP
    stop_at = measure_from + seconds

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(u.hostname, u.port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at:
                break
            writer.write(req)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            data = await reader.readexactly(length)
            t1 = time.perf_counter()
            if not head.startswith(b"HTTP/1.1 200") or b'"result"' not in data[:200]:
                errors += 1
            if t0 >= measure_from:
                lat.append(t1 - t0)
        writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return summary(lat, seconds, errors)


async def grpc_load(target: str, token: str, method: str, seconds: float, clients: int) -> dict:
    from grpc import aio

    channels = [aio.insecure_channel(target) for _ in range(clients)]  # one connection per client
    md = (("authorization", f"Bearer {token}"),)
    lat: list[float] = []
    errors = 0
    start = time.perf_counter()
    measure_from = start + WARMUP
    stop_at = measure_from + seconds

    async def client(i: int) -> None:
        nonlocal errors
        call = channels[i % len(channels)].unary_unary(method)
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at:
                break
            try:
                await call(b"", metadata=md)
            except Exception as e:
                errors += 1
                first_error.append(repr(e)[:300])
                continue
            t1 = time.perf_counter()
            if t0 >= measure_from:
                lat.append(t1 - t0)

    first_error: list[str] = []
    await asyncio.gather(*(client(i) for i in range(clients)))
    for ch in channels:
        await ch.close()
    out = summary(lat, seconds, errors)
    if first_error:
        out["firstError"] = first_error[0]
    return out


def main() -> None:
    import uvloop

    kind, target, token, what, seconds, clients = sys.argv[1:7]
    if kind == "http":
        out = uvloop.run(http_load(target, token, what.encode(), float(seconds), int(clients)))
    else:
        out = uvloop.run(grpc_load(target, token, what, float(seconds), int(clients)))
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
