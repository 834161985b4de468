"""The soak test's load, run as its own process (so it does not share the test's interpreter or the
sidecar's): N concurrent clients for a fixed time, half on JSON-RPC over HTTP (each its own keep-alive
connection), half on gRPC (each its own channel), every one mixing ``status``, ``cached``, ``usage`` and
``record`` (of which every fifth replays its previous key, which must come back as a duplicate).

    python tests/load/load_clients.py HTTP_URL GRPC_TARGET TOKEN SECONDS CLIENTS SEED

Prints one JSON line: calls and errors per transport and method, latency percentiles, records accepted
and duplicates, the first few errors verbatim.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

SERVICE = "/tokendash.v1.TokenDashboardService/"
MIX = (("cached", 40), ("status", 20), ("usage", 20), ("record", 20))
USAGE_PARAMS = {"since": "7d", "groupBy": ["day", "model"]}


class Stats:
    def __init__(self) -> None:
        self.calls: dict[str, int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)
        self.lat: dict[str, list[float]] = defaultdict(list)
        self.first_errors: list[str] = []
        self.accepted = 0
        self.duplicates = 0
        self.replays = 0
        self.keys = 0

    def ok(self, name: str, seconds: float) -> None:
        self.calls[name] += 1
        self.lat[name].append(seconds)

    def error(self, name: str, what: str) -> None:
        self.calls[name] += 1
        self.errors[name] += 1
        if len(self.first_errors) < 10:
            self.first_errors.append(f"{name}: {what[:300]}")

    def summary(self, seconds: float) -> dict[str, Any]:
        def pct(xs: list[float], p: float) -> float:
            xs = sorted(xs)
            return round(xs[min(len(xs) - 1, int(p * len(xs)))] * 1000, 2) if xs else 0.0

        return {
            "seconds": round(seconds, 2),
            "calls": dict(self.calls), "errors": dict(self.errors),
            "totalCalls": sum(self.calls.values()), "totalErrors": sum(self.errors.values()),
            "p50ms": {k: pct(v, 0.5) for k, v in self.lat.items()},
            "p99ms": {k: pct(v, 0.99) for k, v in self.lat.items()},
            "maxms": {k: pct(v, 1.0) for k, v in self.lat.items()},
            "recordsAccepted": self.accepted, "recordsDuplicates": self.duplicates, "recordReplays": self.replays,
            "recordKeys": self.keys, "firstErrors": self.first_errors,
        }


class Client:
    """What one client calls next, and the record keys it has used."""

    def __init__(self, cid: int, rng: random.Random, tag: str) -> None:
        self.cid = cid
        self.tag = tag
        self.rng = rng
        self.n = 0
        self.last: dict[str, Any] | None = None

    def pick(self) -> str:
        r = self.rng.uniform(0, 100)
        for name, weight in MIX:
            if r < weight:
                return name
            r -= weight
        return "cached"

    def record_event(self, stats: Stats) -> tuple[dict[str, Any], bool]:
        """The event to record, and whether it replays the previous one."""
        self.n += 1
        if self.last is not None and self.n % 5 == 0:
            stats.replays += 1
            return self.last, True
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.last = {"idempotencyKey": f"{self.tag}-{self.cid}-{self.n}", "timestamp": now, "provider": "openai",
                     "model": "gpt-4o-mini", "agent": f"agent-{self.cid % 4}", "input": 120, "output": 40,
                     "costUsd": 0.0005}
        stats.keys += 1
        return self.last, False

    def status_params(self) -> dict[str, Any]:
        # now and then a status that asks for a refresh (the scheduler's single flight), else from memory
        return {"maxAgeSeconds": 1, "timeoutSeconds": 10} if self.rng.random() < 0.1 else {}


async def http_client(c: Client, url: str, token: str, stop_at: float, stats: Stats) -> None:
    u = urlsplit(url)
    reader, writer = await asyncio.open_connection(u.hostname, u.port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head_tpl = (f"POST /rpc HTTP/1.1\r\nHost: {u.hostname}\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer {token}\r\nContent-Length: ").encode()
    try:
        while time.perf_counter() < stop_at:
            name = c.pick()
            replay = False
            if name == "record":
                ev, replay = c.record_event(stats)
                params: dict[str, Any] = {"events": [ev]}
            elif name == "usage":
                params = USAGE_PARAMS
            elif name == "status":
                params = c.status_params()
            else:
                params = {}
            body = json.dumps({"jsonrpc": "2.0", "id": c.n, "method": f"token-dashboard.{name}", "params": params}).encode()
            key = f"http.{name}"
            t0 = time.perf_counter()
            writer.write(head_tpl + str(len(body)).encode() + b"\r\n\r\n" + body)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            data = await reader.readexactly(length)
            dt = time.perf_counter() - t0
            if not head.startswith(b"HTTP/1.1 200"):
                stats.error(key, head.split(b"\r\n", 1)[0].decode(errors="replace") + " " + data[:200].decode(errors="replace"))
                continue
            msg = json.loads(data)
            if "error" in msg:
                stats.error(key, json.dumps(msg["error"]))
                continue
            res = msg["result"]
            if name == "record":
                if res != ({"accepted": 0, "duplicates": 1} if replay else {"accepted": 1, "duplicates": 0}):
                    stats.error(key, f"record {'replay' if replay else 'new'}: {res}")
                    continue
                stats.accepted += res["accepted"]
                stats.duplicates += res["duplicates"]
            elif name in ("status", "cached") and "providers" not in res:
                stats.error(key, f"no providers in {str(res)[:200]}")
                continue
            elif name == "usage" and "totals" not in res:
                stats.error(key, f"no totals in {str(res)[:200]}")
                continue
            stats.ok(key, dt)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def grpc_client(c: Client, target: str, token: str, stop_at: float, stats: Stats) -> None:
    from grpc import aio

    from tokendash.api._pb import token_dashboard_service_pb2 as pb
    from tokendash.api._pb import usage_pb2
    from tokendash.api.codec import request_class, response_class

    md = (("authorization", f"Bearer {token}"),)
    channel = aio.insecure_channel(target)
    rpcs = {name: channel.unary_unary(SERVICE + rpc, request_serializer=request_class(rpc).SerializeToString,
                                       response_deserializer=response_class(rpc).FromString)
            for name, rpc in (("cached", "Cached"), ("status", "Status"), ("usage", "Usage"), ("record", "Record"))}
    try:
        while time.perf_counter() < stop_at:
            name = c.pick()
            replay = False
            if name == "record":
                ev, replay = c.record_event(stats)
                req: Any = pb.RecordRequest(events=[usage_pb2.UsageRecord(
                    idempotency_key=ev["idempotencyKey"], timestamp=ev["timestamp"], provider=ev["provider"],
                    model=ev["model"], agent=ev["agent"], input=ev["input"], output=ev["output"], cost_usd=ev["costUsd"])])
            elif name == "usage":
                req = pb.UsageRequest(since=USAGE_PARAMS["since"], group_by=USAGE_PARAMS["groupBy"])
            elif name == "status":
                p = c.status_params()
                req = pb.StatusRequest(**({"max_age_seconds": p["maxAgeSeconds"], "timeout_seconds": p["timeoutSeconds"]}
                                          if p else {}))
            else:
                req = pb.CachedRequest()
            key = f"grpc.{name}"
            t0 = time.perf_counter()
            try:
                res = await rpcs[name](req, metadata=md, timeout=60)
            except Exception as e:  # an RpcError: counted, and the first few kept verbatim
                stats.error(key, repr(e))
                continue
            dt = time.perf_counter() - t0
            if name == "record":
                got = (res.accepted, res.duplicates)
                if got != ((0, 1) if replay else (1, 0)):
                    stats.error(key, f"record {'replay' if replay else 'new'}: {got}")
                    continue
                stats.accepted += res.accepted
                stats.duplicates += res.duplicates
            elif name in ("status", "cached") and not res.timestamp:
                stats.error(key, "an empty StatusResponse")
                continue
            stats.ok(key, dt)
    finally:
        await channel.close()


async def run(url: str, target: str, token: str, seconds: float, clients: int, seed: int) -> dict[str, Any]:
    stats = Stats()
    start = time.perf_counter()
    stop_at = start + seconds
    tasks = []
    for i in range(clients):
        c = Client(i, random.Random(seed * 1000 + i), f"soak{seed}")
        if i % 2 == 0:
            tasks.append(http_client(c, url, token, stop_at, stats))
        else:
            tasks.append(grpc_client(c, target, token, stop_at, stats))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for r in results:  # a client that died (a connection reset, a malformed answer) is an error too
        if isinstance(r, BaseException):
            stats.error("client", repr(r))
    return stats.summary(time.perf_counter() - start)


def main() -> None:
    url, target, token, seconds, clients, seed = sys.argv[1:7]
    try:
        import uvloop

        out = uvloop.run(run(url, target, token, float(seconds), int(clients), int(seed)))
    except ImportError:
        out = asyncio.run(run(url, target, token, float(seconds), int(clients), int(seed)))
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
