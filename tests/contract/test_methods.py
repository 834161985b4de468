"""Every method of SPEC §8 on both transports, against a real sidecar on loopback: results are the proto
JSON of their response message (no unknown field, counts as JSON numbers), the original Token
Dashboard payload is all there, auth is enforced, and a bad parameter is named."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from tests.sidecar.harness import RunningSidecar, make_app, recent_day
from tests.support import gen_corpus
from tokendash.api._pb import token_dashboard_service_pb2 as pb
from tokendash.api._pb import usage_pb2
from tokendash.api.codec import is_repeated, response_class
from tokendash.api.methods import METHODS

NOW = datetime.now(UTC)
HOUR_AGO = (NOW - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
# Three calls of a provider no price list knows, with the cost the caller was billed: hand-made figures.
RECORDS = [
    {"idempotencyKey": f"call-{i}", "timestamp": HOUR_AGO, "provider": "acme", "model": "acme-1",
     "agent": "main", "input": inp, "output": out, "cacheRead": 100, "costUsd": cost}
    for i, (inp, out, cost) in enumerate([(1000, 10, 0.5), (2000, 20, 0.25), (3000, 30, 0.25)])
]


@pytest.fixture(scope="module")
def sidecar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSidecar]:
    tmp = tmp_path_factory.mktemp("contract")
    claude = tmp / "claude"
    gen_corpus(claude, files=3, assistant_lines=120, seed=3, end_date=recent_day(), days=3)
    running = RunningSidecar(make_app(tmp, claude)).start()
    running.rpc("token-dashboard.refresh", {"timeoutSeconds": 60})
    assert running.rpc("token-dashboard.record", {"events": RECORDS}) == {"accepted": 3, "duplicates": 0}
    yield running
    running.stop()


def assert_counts_are_numbers(value: Any, desc: Descriptor, where: str = "") -> None:
    """Every integer field of the message is a JSON number in ``value`` (proto JSON would allow strings)."""
    ints = (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_UINT64)
    for f in desc.fields:
        if f.json_name not in value or value[f.json_name] is None:
            continue
        v = value[f.json_name]
        items = v if is_repeated(f) else [v]
        for i, x in enumerate(items):
            here = f"{where}.{f.json_name}[{i}]"
            if f.type == FieldDescriptor.TYPE_MESSAGE:
                assert_counts_are_numbers(x, f.message_type, here)
            elif f.type in ints:
                assert type(x) is int, f"{here} is {x!r}, not a JSON number"


def check_result(method: str, result: Any) -> Any:
    cls = response_class(METHODS[method].rpc)
    msg = json_format.ParseDict(result, cls())  # raises on an unknown field or a wrong type
    assert_counts_are_numbers(result, cls.DESCRIPTOR)
    return msg


CALLS = {
    "token-dashboard.status": {"format": "json", "maxAgeSeconds": 3600},
    "token-dashboard.cached": {},
    "token-dashboard.providers": {},
    "token-dashboard.burn": {"format": "text"},
    "token-dashboard.usage": {"groupBy": ["day", "provider", "model"], "since": "7d"},
    "token-dashboard.budgets": {},
    "token-dashboard.budget.check": {"agentId": "main", "provider": "acme"},
    "token-dashboard.alerts": {"state": "all"},
    "token-dashboard.health": {},
    "token-dashboard.record": {"events": RECORDS[:1]},
    "token-dashboard.refresh": {"sources": ["claude-code"]},
}


def test_every_method_is_covered() -> None:
    assert set(CALLS) == set(METHODS)
    rpcs = {m.name for m in pb.DESCRIPTOR.services_by_name["TokenDashboardService"].methods}
    assert rpcs == {m.rpc for m in METHODS.values()}


@pytest.mark.parametrize("method", sorted(CALLS))
def test_json_rpc_result_is_its_proto_message(sidecar: RunningSidecar, method: str) -> None:
    check_result(method, sidecar.rpc(method, CALLS[method]))


@pytest.mark.parametrize("method", sorted(CALLS))
def test_grpc_answers_every_method(sidecar: RunningSidecar, method: str) -> None:
    m = METHODS[method]
    req = json_format.ParseDict(CALLS[method], pb.__dict__[f"{m.rpc}Request"]())
    resp = sidecar.grpc_call(m.rpc, req)  # raises unless the status is OK
    assert type(resp) is response_class(m.rpc)


def test_both_transports_give_the_same_result(sidecar: RunningSidecar) -> None:
    for method in ("token-dashboard.usage", "token-dashboard.budget.check", "token-dashboard.alerts"):
        m = METHODS[method]
        via_json = check_result(method, sidecar.rpc(method, CALLS[method]))
        via_grpc = sidecar.grpc_call(m.rpc, json_format.ParseDict(CALLS[method], pb.__dict__[f"{m.rpc}Request"]()))
        assert via_grpc == via_json, method
    for _ in range(3):  # the same in-memory dashboard, unless a rebuild fell between the two calls
        via_json = check_result("token-dashboard.cached", sidecar.rpc("token-dashboard.cached"))
        via_grpc = sidecar.grpc_call("Cached")
        if via_grpc == via_json:
            break
    assert via_grpc == via_json


ORIGINAL_SUMMARY = {"timestamp", "providers", "totalBalanceUsd", "totalDailyCostUsd", "totalRunwayDays", "alerts"}
ORIGINAL_PROVIDER = {"providerId", "name", "isConfigured", "isReachable", "lastChecked", "error", "currentUsage", "burnRate"}
ORIGINAL_USAGE = {"providerId", "timestamp", "inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens",
                  "costUsd", "balanceUsd", "creditLimitUsd"}
ORIGINAL_BURN = {"providerId", "tokensPerHour", "tokensPerDay", "costPerHour", "costPerDay", "runwayHours", "runwayDays"}
ORIGINAL_ALERT = {"providerId", "type", "message", "severity", "timestamp"}


def test_original_token_dashboard_payload_is_all_there(sidecar: RunningSidecar) -> None:
    for method in ("token-dashboard.status", "token-dashboard.cached"):
        s = sidecar.rpc(method, {})
        assert s.keys() >= ORIGINAL_SUMMARY
        assert datetime.fromisoformat(s["timestamp"].replace("Z", "+00:00")) > NOW - timedelta(minutes=5)
        acme = next(p for p in s["providers"] if p["providerId"] == "acme")
        assert acme.keys() >= ORIGINAL_PROVIDER
        assert acme["currentUsage"].keys() >= ORIGINAL_USAGE
        assert acme["burnRate"].keys() >= ORIGINAL_BURN
        # Month to date, from the three records: 1000 + 2000 + 3000 input, 10 + 20 + 30 output, $1.00.
        u = acme["currentUsage"]
        assert (u["providerId"], u["inputTokens"], u["outputTokens"], u["cacheReadTokens"]) == ("acme", 6000, 60, 300)
        assert u["costUsd"] == pytest.approx(1.0)
        assert acme["isConfigured"] is True and acme["isReachable"] is True and acme["error"] is None
        # Burn: the last 7 days' cost per day and the last 24 h's per hour.
        assert acme["burnRate"]["costPerDay"] == pytest.approx(1.0 / 7, abs=1e-6)
        assert acme["burnRate"]["costPerHour"] == pytest.approx(1.0 / 24, abs=1e-6)
        assert acme["burnRate"]["tokensPerHour"] == pytest.approx(6360 / 24, abs=1e-3)
        # Unconfigured provider APIs have no burn (null); the total is the sum of the others.
        burning = [p["burnRate"]["costPerDay"] for p in s["providers"] if p["burnRate"]]
        assert s["totalDailyCostUsd"] == pytest.approx(sum(burning), abs=1e-5)
        assert s["totalBalanceUsd"] is None and s["totalRunwayDays"] is None  # no balance API: none invented
        assert s["alerts"] == []
    alert_fields = {f.json_name for f in usage_pb2.UsageAlert.DESCRIPTOR.fields}
    assert alert_fields >= ORIGINAL_ALERT
    provs = sidecar.rpc("token-dashboard.providers")["providers"]
    assert all({"id", "name", "isConfigured"} <= p.keys() for p in provs)


def test_text_format_is_the_original_layout_extended(sidecar: RunningSidecar) -> None:
    text = sidecar.rpc("token-dashboard.status", {"format": "text"})["text"]
    lines = text.splitlines()
    assert lines[0] == "📊 **Token Dashboard**"
    assert "**Providers:**" in lines
    assert any(ln.startswith("✅ **acme**") and "Tokens: 6,360" in ln and "Cost: $1.0000" in ln for ln in lines), text
    assert lines[-1].startswith("_Last updated: ")
    assert sidecar.rpc("token-dashboard.cached", {"format": "text"})["text"].splitlines()[0] == lines[0]
    burn = sidecar.rpc("token-dashboard.burn", {"format": "text"})["text"]
    assert burn.startswith("🔥 **Burn Rate Summary**")
    # providers: the provider APIs, then every source (what `openclaw tokens providers` prints).
    prov = sidecar.rpc("token-dashboard.providers", {"format": "text"})
    lines = prov["text"].splitlines()
    assert lines[0] == "**Providers:**" and "**Sources:**" in lines
    shown = lines[lines.index("**Sources:**") + 1:]
    for src in sidecar.rpc("token-dashboard.cached")["sources"]:
        assert any(f" {src['id']} ({src['kind']})" in ln for ln in shown), (src["id"], prov["text"])
    resp = sidecar.grpc_call("Providers", pb.ProvidersRequest(format="text"))
    assert resp.text == prov["text"]
    # budgets, alerts, health: what `tokendash budgets|alerts|health` print (and /tokens budgets …).
    assert sidecar.rpc("token-dashboard.budgets", {"format": "text"})["text"].startswith("No budgets configured")
    assert sidecar.rpc("token-dashboard.alerts", {"format": "text"})["text"] == "No open alerts."
    health = sidecar.rpc("token-dashboard.health", {"format": "text"})
    assert health["text"] and "text" not in sidecar.rpc("token-dashboard.health")


def test_record_is_idempotent(sidecar: RunningSidecar) -> None:
    again = sidecar.rpc("token-dashboard.record", {"events": RECORDS + [dict(RECORDS[0], idempotencyKey="call-new")]})
    assert again == {"accepted": 1, "duplicates": 3}
    resp = sidecar.grpc_call("Record", json_format.ParseDict({"events": RECORDS}, pb.RecordRequest()))
    assert (resp.accepted, resp.duplicates) == (0, 3)


def test_auth_is_enforced_on_both_transports(sidecar: RunningSidecar) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "token-dashboard.cached"}).encode()
    for token in (None, "wrong", sidecar.token + "x"):
        status, out = sidecar.post(body, token)
        assert status == 401
        assert json.loads(out)["error"]["code"] == -32001
    assert sidecar.post(body, sidecar.token)[0] == 200
    assert sidecar.get("/healthz")[0] == 200  # liveness needs no token
    assert sidecar.get("/readyz")[0] == 401
    assert sidecar.get("/readyz", sidecar.token) == (200, b'{"ready":true}')
    for token in (None, "wrong"):
        with pytest.raises(grpc.RpcError) as e:
            sidecar.grpc_call("Cached", token=token)
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    from grpc_health.v1 import health_pb2

    assert sidecar.bound and sidecar.bound.grpc
    with grpc.insecure_channel(f"{sidecar.bound.grpc[0]}:{sidecar.bound.grpc[1]}") as ch:
        check = ch.unary_unary("/grpc.health.v1.Health/Check", request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                               response_deserializer=health_pb2.HealthCheckResponse.FromString)
        for name in ("", "tokendash.v1.TokenDashboardService"):
            assert check(health_pb2.HealthCheckRequest(service=name), timeout=10).status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_service(sidecar: RunningSidecar) -> None:
    from grpc_reflection.v1alpha import reflection_pb2

    assert sidecar.bound and sidecar.bound.grpc
    with grpc.insecure_channel(f"{sidecar.bound.grpc[0]}:{sidecar.bound.grpc[1]}") as ch:
        info = ch.stream_stream("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                                response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
        md = (("authorization", f"Bearer {sidecar.token}"),)
        out = list(info(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), metadata=md, timeout=10))
        names = {s.name for s in out[0].list_services_response.service}
        assert {"tokendash.v1.TokenDashboardService", "grpc.health.v1.Health"} <= names
        with pytest.raises(grpc.RpcError) as e:
            list(info(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10))
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED


BAD = [
    ("token-dashboard.status", {"maxAgeSeconds": "soon"}, "maxAgeSeconds"),
    ("token-dashboard.status", {"timeoutSeconds": -1}, "timeoutSeconds"),
    ("token-dashboard.status", {"scope": "world"}, "scope"),
    ("token-dashboard.cached", {"format": "xml"}, "format"),
    ("token-dashboard.providers", {"verbose": True}, "verbose"),
    ("token-dashboard.burn", {"format": 1}, "format"),
    ("token-dashboard.usage", {"groupBy": ["galaxy"]}, "groupBy"),
    ("token-dashboard.usage", {"since": "next tuesday"}, "since"),
    ("token-dashboard.usage", {"filters": {"planet": "x"}}, "filters.planet"),
    ("token-dashboard.budgets", {"id": "x"}, "id"),
    ("token-dashboard.budget.check", {"agentId": 5}, "agentId"),
    ("token-dashboard.alerts", {"state": "closed"}, "state"),
    ("token-dashboard.alerts", {"limit": 0}, "limit"),
    ("token-dashboard.health", {"deep": 1}, "deep"),
    ("token-dashboard.record", {"events": [{"provider": "x", "model": "y"}]}, "events[0].idempotencyKey"),
    ("token-dashboard.record", {"events": [dict(RECORDS[0], input=-1)]}, "events[0].input"),
    ("token-dashboard.record", {"events": [dict(RECORDS[0], costUsd="1")]}, "events[0].costUsd"),
    ("token-dashboard.refresh", {"sources": ["claude-code", "nope"]}, "sources[1]"),
]


@pytest.mark.parametrize(("method", "params", "field"), BAD, ids=[f"{m.split('.', 1)[1]}-{f}" for m, _, f in BAD])
def test_bad_params_name_the_field(sidecar: RunningSidecar, method: str, params: dict, field: str) -> None:
    err = sidecar.rpc_raw(method, params)["error"]
    assert err["code"] == -32602
    assert err["data"]["field"] == field
    assert field in err["message"]


GRPC_BAD = [
    ("Status", pb.StatusRequest(format="xml"), "format"),
    ("Status", pb.StatusRequest(max_age_seconds=-5), "maxAgeSeconds"),
    ("Usage", pb.UsageRequest(group_by=["galaxy"]), "groupBy"),
    ("Alerts", pb.AlertsRequest(state="closed"), "state"),
    ("Record", pb.RecordRequest(events=[usage_pb2.UsageRecord(provider="x", model="y")]), "events[0].idempotencyKey"),
    ("Refresh", pb.RefreshRequest(sources=["nope"]), "sources[0]"),
]


@pytest.mark.parametrize(("rpc", "request_msg", "field"), GRPC_BAD, ids=[f"{r}-{f}" for r, _, f in GRPC_BAD])
def test_grpc_bad_arguments_are_invalid_argument(sidecar: RunningSidecar, rpc: str, request_msg: Any, field: str) -> None:
    with pytest.raises(grpc.RpcError) as e:
        sidecar.grpc_call(rpc, request_msg)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in e.value.details()


def test_grpc_undecodable_request_is_invalid_argument(sidecar: RunningSidecar) -> None:
    with pytest.raises(grpc.RpcError) as e:
        sidecar.grpc_call("Usage", raw=b"\xff\xff\xff")
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_health_without_host_collection_is_honest(sidecar: RunningSidecar, tmp_path: Path) -> None:
    h = sidecar.rpc("token-dashboard.health")
    check_result("token-dashboard.health", h)
    assert h["status"] in ("HEALTHY", "CAUTION", "CRITICAL", "UNKNOWN")
    if h["status"] == "UNKNOWN":  # without tokendash.health: nothing made up
        assert "ram" not in h and h["services"] == [] and h["error"]


def test_metrics_are_prometheus_text_behind_the_token(sidecar: RunningSidecar) -> None:
    events = [{"idempotencyKey": f"metrics-{i}", "timestamp": HOUR_AGO, "provider": "acme", "model": "acme-2",
               "agent": "metrics-agent", "input": 300 + 100 * i, "output": 3 + i, "costUsd": 0.03 + 0.01 * i}
              for i in range(2)]
    assert sidecar.rpc("token-dashboard.record", {"events": events})["accepted"] == 2
    assert sidecar.get("/metrics")[0] == 401
    status, body = sidecar.get("/metrics", sidecar.token)
    assert status == 200
    lines = body.decode().splitlines()
    keys = 'provider="acme",model="acme-2",source="record",agent="metrics-agent"'
    assert f'tokendash_tokens_total{{{keys},type="input"}} 700' in lines  # 300 + 400
    assert f'tokendash_tokens_total{{{keys},type="output"}} 7' in lines  # 3 + 4
    cost = next(ln for ln in lines if ln.startswith(f"tokendash_cost_usd_total{{{keys}}}"))
    assert float(cost.rsplit(" ", 1)[1]) == pytest.approx(0.07)
    assert 'tokendash_source_up{source="claude-code"} 1' in lines
    assert "# TYPE tokendash_tokens_total counter" in lines
    assert all(ln.startswith("#") or " " in ln for ln in lines)


def test_usage_scope_host_or_team(sidecar: RunningSidecar) -> None:
    from tokendash.pricing.prices import Priced
    from tokendash.sources.base import UsageEvent
    from tokendash.store.repo import Store

    app = sidecar.ctx.app
    other = Store(app.store.engine, host_id="other-machine")  # what a second host's sidecar writes (team store)
    ts = int((NOW - timedelta(hours=2)).timestamp() * 1000)
    other.write_batch("record", [(UsageEvent("record", "elsewhere-1", ts, "acme-team", "acme-3", input=5000), Priced(0, "reported"))])
    params = {"groupBy": ["host"], "filters": {"model": "acme-3"}}
    team = sidecar.rpc("token-dashboard.usage", {**params, "scope": "team"})
    assert [(r["host"], r["tokens"]["input"]) for r in team["rows"]] == [("other-machine", 5000)]
    assert sidecar.rpc("token-dashboard.usage", {**params, "scope": "host"})["rows"] == []
    # On SQLite no scope means no host filter: a one-machine file, whose older rows may carry an earlier
    # host id of this same machine (TOKENDASH_HOST_ID changed), must not lose them.
    assert sidecar.rpc("token-dashboard.usage", params)["totals"]["tokens"]["input"] == 5000
