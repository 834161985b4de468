"""The .proto files are the schema: the committed Python modules must be what they compile to, and the
responses that restate a message (Buf's one-response-per-RPC) must restate it field for field."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2

from tests.support import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import gen_protos  # noqa: E402

from tokendash.api._pb import health_pb2, token_dashboard_service_pb2, usage_pb2  # noqa: E402
from tokendash.api.codec import is_repeated  # noqa: E402


def test_committed_modules_match_the_protos(tmp_path: Path) -> None:
    out = tmp_path / "set.pb"
    gen_protos.descriptor_set(out)
    compiled = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    names = {f.name for f in compiled.file}
    assert names == {f"tokendash/v1/{p.name}" for p in gen_protos.proto_files()}
    for fdp in compiled.file:
        module = importlib.import_module(f"tokendash.api._pb.{Path(fdp.name).stem}_pb2")
        committed = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
        assert _without_json_names(committed) == _without_json_names(fdp), f"{fdp.name} changed: run scripts/gen_protos.py"


def _without_json_names(fdp: descriptor_pb2.FileDescriptorProto) -> descriptor_pb2.FileDescriptorProto:
    # protoc's descriptor set spells out the default JSON names; the embedded descriptor leaves them out.
    out = descriptor_pb2.FileDescriptorProto()
    out.CopyFrom(fdp)
    stack = list(out.message_type)
    while stack:
        msg = stack.pop()
        for f in msg.field:
            f.ClearField("json_name")
        stack.extend(msg.nested_type)
    return out


def _fields(msg: type) -> list[tuple]:
    return [
        (f.name, f.number, f.type, is_repeated(f), f.message_type.full_name if f.message_type else None, f.has_presence)
        for f in msg.DESCRIPTOR.fields
    ]


def test_responses_restate_their_message_exactly() -> None:
    s = token_dashboard_service_pb2
    assert _fields(s.StatusResponse) == _fields(usage_pb2.DashboardSummary)
    assert _fields(s.CachedResponse) == _fields(usage_pb2.DashboardSummary)
    assert _fields(s.HealthResponse) == _fields(health_pb2.SystemHealth)


def test_buf_style_names() -> None:
    svc = token_dashboard_service_pb2.DESCRIPTOR.services_by_name["TokenDashboardService"]
    assert svc.full_name == "tokendash.v1.TokenDashboardService"
    for m in svc.methods:
        assert m.input_type.name == f"{m.name}Request" and m.output_type.name == f"{m.name}Response"
    inputs = [m.input_type.name for m in svc.methods]
    assert len(set(inputs)) == len(inputs)
    for mod in (usage_pb2, health_pb2, token_dashboard_service_pb2):
        for msg in mod.DESCRIPTOR.message_types_by_name.values():
            for f in msg.fields:
                assert f.name == f.name.lower(), f"{msg.name}.{f.name} is not lower_snake_case"
