"""Malformed JSON-RPC bodies and params (hypothesis, 1,350 cases over HTTP, 300 over gRPC): always a
JSON-RPC error (or a result for params that happen to be valid), never an HTTP 500, a crash or a
stack trace, and the server keeps answering."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sidecar.harness import RunningSidecar, make_app
from tokendash.api.methods import METHODS

CODES = {-32700, -32600, -32601, -32602, -32001, -32002, -32003}
FUZZ = settings(max_examples=450, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

json_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)

# Parameter names the methods know, plus some they do not: values of every JSON type.
PARAM_NAMES = sorted({"scope", "maxAgeSeconds", "refresh", "timeoutSeconds", "format", "since", "until", "timezone",
                      "groupBy", "filters", "limit", "agentId", "provider", "model", "state", "events", "sources",
                      "x", ""})
param_values = st.one_of(
    json_values,
    st.sampled_from(["json", "text", "host", "team", "open", "all", "today", "7d", "UTC", "Mars/Base", "day",
                     "model", "2026-13-45", "claude-code", -1, 0, 0.5, 10**12, True]),
    st.lists(st.sampled_from(["day", "week", "provider", "galaxy", "claude-code", 3]), max_size=3),
    st.lists(st.dictionaries(st.sampled_from(["idempotencyKey", "provider", "model", "input", "output", "costUsd",
                                              "timestamp", "reasoning", "agent"]), json_values, max_size=6), max_size=3),
)
params = st.dictionaries(st.sampled_from(PARAM_NAMES), param_values, max_size=4)
methods = st.sampled_from(sorted(METHODS) + ["token-dashboard.nope", "", "rpc.discover"])
calls = st.fixed_dictionaries(
    {"jsonrpc": st.sampled_from(["2.0", "2.0", "1.0", 2]), "method": methods},
    optional={"id": st.one_of(st.integers(), st.text(max_size=8), st.none(), st.booleans(), st.lists(st.integers(), max_size=1)),
              "params": st.one_of(params, params, json_values), "extra": json_values},
)


@pytest.fixture(scope="module")
def sidecar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSidecar]:
    running = RunningSidecar(make_app(tmp_path_factory.mktemp("fuzz"))).start()
    yield running
    running.stop()


def check_response(status: int, body: bytes, sent_calls: int | None) -> list[dict[str, Any]]:
    assert status in (200, 204), (status, body[:200])
    if status == 204:
        return []
    out = json.loads(body)
    items = out if isinstance(out, list) else [out]
    for r in items:
        assert r["jsonrpc"] == "2.0" and set(r) in ({"jsonrpc", "id", "result"}, {"jsonrpc", "id", "error"}), r
        if "error" in r:
            assert r["error"]["code"] in CODES, r  # never -32603: bad input is the caller's error
            assert "Traceback" not in r["error"]["message"] and 'File "' not in r["error"]["message"]
    return items


@FUZZ
@given(body=st.binary(max_size=300))
def test_random_bytes(sidecar: RunningSidecar, body: bytes) -> None:
    status, out = sidecar.post(body)
    for r in check_response(status, out, None):
        assert "error" in r


@FUZZ
@given(value=json_values)
def test_json_that_is_not_a_call(sidecar: RunningSidecar, value: Any) -> None:
    status, out = sidecar.post(json.dumps(value).encode())
    for r in check_response(status, out, None):
        assert "error" in r


@FUZZ
@given(batch=st.one_of(calls, st.lists(calls, min_size=1, max_size=3)))
def test_calls_with_random_params(sidecar: RunningSidecar, batch: Any) -> None:
    for c in batch if isinstance(batch, list) else [batch]:
        if isinstance(c.get("params"), dict):
            c["params"].pop("timeoutSeconds", None)  # keep each case quick: the defaults are bounded anyway
            c["params"]["timeoutSeconds"] = 2 if c["method"].endswith(("status", "refresh")) else None
            if c["params"]["timeoutSeconds"] is None:
                del c["params"]["timeoutSeconds"]
    status, out = sidecar.post(json.dumps(batch).encode())
    check_response(status, out, None)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(rpc=st.sampled_from(sorted(m.rpc for m in METHODS.values())), raw=st.binary(max_size=200))
def test_grpc_random_requests(sidecar: RunningSidecar, rpc: str, raw: bytes) -> None:
    try:
        sidecar.grpc_call(rpc, raw=raw, timeout=15)
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, (e.code(), e.details())


def test_still_answering_after_the_fuzz(sidecar: RunningSidecar) -> None:
    assert sidecar.rpc("token-dashboard.cached")["sources"] is not None
    assert sidecar.get("/healthz")[0] == 200
    assert sidecar.bound
    with socket.create_connection(sidecar.bound.http, timeout=10) as s:  # a body announced over 1 MiB
        s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\nAuthorization: Bearer "
                  + sidecar.token.encode() + b"\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 413")
    just_under = b'{"jsonrpc":"2.0","id":1,"method":"token-dashboard.cached","params":{"x":"' + b"a" * 1000 + b'"}}'
    assert json.loads(sidecar.post(just_under)[1])["error"]["data"]["field"] == "x"
    assert sidecar.rpc("token-dashboard.cached")["sources"] is not None


def test_the_store_has_no_fuzz_secrets(sidecar: RunningSidecar, tmp_path: Path) -> None:
    msg = sidecar.rpc_raw("token-dashboard.record", {"events": [{"idempotencyKey": "k", "provider": "p", "model": "m",
                                                                  "agent": "sk-ant-admin01-abcdefghijklmnop me@example.com"}]})
    assert msg["result"]["accepted"] in (0, 1)
    rows = sidecar.rpc("token-dashboard.usage", {"groupBy": ["agent"], "filters": {"provider": "p"}})["rows"]
    assert rows and all("sk-ant" not in (r["agent"] or "") and "example.com" not in (r["agent"] or "") for r in rows)
