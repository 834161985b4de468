"""Proto ⇄ JSON, once for every transport.

Handlers return plain dicts in proto JSON shape (camelCase, counts as JSON numbers, ``None`` for
null). JSON-RPC sends them as they are; gRPC turns them into the response message here. A result the
sidecar keeps in memory (the dashboard) is encoded once, when it is built, into both forms
(``Encoded``), so ``cached`` costs no encoding at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from tokendash.api._pb import token_dashboard_service_pb2 as pb

SERVICE = pb.DESCRIPTOR.services_by_name["TokenDashboardService"]


@dataclass(frozen=True, slots=True)
class Encoded:
    """A result already encoded for both transports."""

    value: dict[str, Any]
    json: bytes
    proto: bytes


def dumps(value: Any) -> bytes:
    # orjson writes NaN and infinities as null: a non-finite number never reaches a client (SPEC §5 rule 8).
    return orjson.dumps(value)


def response_class(rpc: str) -> type[Message]:
    return getattr(pb, SERVICE.methods_by_name[rpc].output_type.name)


def request_class(rpc: str) -> type[Message]:
    return getattr(pb, SERVICE.methods_by_name[rpc].input_type.name)


def to_proto(value: dict[str, Any], cls: type[Message]) -> Message:
    """The response message for a handler's dict; an unknown field is an error (the proto is the schema)."""
    return json_format.ParseDict(value, cls())


def encode(value: dict[str, Any], rpc: str) -> Encoded:
    return Encoded(value, dumps(value), to_proto(value, response_class(rpc)).SerializeToString())


def is_repeated(field: FieldDescriptor) -> bool:
    # ``is_repeated`` since protobuf 5.29 (``label`` is deprecated there); ``label`` before.
    rep = getattr(field, "is_repeated", None)
    return bool(rep) if rep is not None else field.label == FieldDescriptor.LABEL_REPEATED


def to_params(msg: Message) -> dict[str, Any]:
    """A gRPC request as JSON-RPC params: only the fields that were set, camelCase, native numbers
    (``MessageToDict`` would turn int64 into strings)."""
    out: dict[str, Any] = {}
    for field, value in msg.ListFields():
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            value = [to_params(v) for v in value] if is_repeated(field) else to_params(value)
        elif is_repeated(field):
            value = list(value)
        out[field.json_name] = value
    return out
