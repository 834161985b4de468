"""``token-dashboard.health`` through a real sidecar, on both transports: the readings and the probes
are this package's, counts are JSON numbers, and a hanging service does not hold the answer up."""

from __future__ import annotations

import time
from pathlib import Path

from tests.health.fakes import chroma_routes, hanging_port, ollama_routes, serve
from tests.sidecar.harness import RunningSidecar, make_app


def test_health_over_json_rpc_and_grpc(tmp_path: Path) -> None:
    with serve(ollama_routes()) as (ollama, _), serve(chroma_routes(count=3)) as (chroma, _), hanging_port() as gw:
        running = RunningSidecar(make_app(tmp_path, ollama_url=ollama, chromadb_url=chroma, gateway_url=gw)).start()
        try:
            start = time.monotonic()
            h = running.rpc("token-dashboard.health")
            took = time.monotonic() - start
            reply = running.grpc_call("Health")
        finally:
            running.stop()
    assert took < 2.0, took
    s = {x["name"]: x for x in h["services"]}
    assert s["ollama"]["ollama"]["totalSizeBytes"] == 8021889136 and type(s["ollama"]["ollama"]["totalSizeBytes"]) is int
    assert s["chromadb"]["chromadb"]["collectionCount"] == 3
    assert s["gateway"]["ok"] is False and s["gateway"]["error"] == "/healthz: no answer within 1 s"
    assert h["status"] in ("HEALTHY", "CAUTION", "CRITICAL") and type(h["ram"]["totalBytes"]) is int
    g = {x.name: x for x in reply.services}
    assert g["ollama"].ollama.total_size_bytes == 8021889136 and g["ollama"].ollama.loaded_count == 1
    assert reply.ram.total_bytes == h["ram"]["totalBytes"]
