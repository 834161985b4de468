"""The typed fast path of the Claude Code parser gives exactly what the general path gives, for the
ordinary shape and for every odd shape that makes it fall back."""

from __future__ import annotations

import orjson
import pytest

from tokendash.sources.claude_code import parse_chunk, parse_line

BASE = {
    "parentUuid": "p", "isSidechain": False, "type": "assistant", "uuid": "u1", "sessionId": "s1",
    "timestamp": "2026-11-20T10:00:00.500Z", "cwd": "/home/dev/work/proj", "requestId": "req_1",
    "message": {
        "model": "claude-sonnet-4-5-20250929", "id": "msg_1", "role": "assistant",
        "content": [{"type": "tool_use", "input": {"usage": {"model": "x"}, "timestamp": 5}}],
        "usage": {
            "input_tokens": 10, "output_tokens": 20, "cache_read_input_tokens": 30,
            "cache_creation_input_tokens": 40,
            "cache_creation": {"ephemeral_5m_input_tokens": 15, "ephemeral_1h_input_tokens": 25},
        },
    },
}


def _variant(**changes: object) -> dict:
    obj = orjson.loads(orjson.dumps(BASE))
    for path, value in changes.items():
        *parents, last = path.split("__")
        d = obj
        for p in parents:
            d = d[p]
        if value is KeyError:
            d.pop(last, None)
        else:
            d[last] = value
    return obj


CASES = {
    "ordinary": _variant(),
    "float count": _variant(message__usage__output_tokens=20.0),
    "null counts": _variant(message__usage__input_tokens=None, message__usage__cache_creation=None),
    "string message": _variant(message="hello"),
    "no usage": _variant(message__usage=KeyError),
    "usage not an object": _variant(message__usage=[1, 2]),
    "synthetic": _variant(message__model="<synthetic>"),
    "no message id": _variant(message__id=KeyError),
    "no request id": _variant(requestId=KeyError),
    "sidechain with agent": _variant(isSidechain=True, attributionAgent="explorer"),
    "sidechain as string": _variant(isSidechain="yes"),
    "speed fast": _variant(message__usage__speed="fast"),
    "top-level speed": _variant(speed="fast"),
    "integer cost": _variant(costUSD=2),
    "float cost": _variant(costUSD=0.125),
    "numeric timestamp": _variant(timestamp=12345),
    "user line": _variant(type="user"),
    "cwd empty": _variant(cwd=""),
    "1h above total": _variant(message__usage__cache_creation__ephemeral_1h_input_tokens=999),
}


@pytest.mark.parametrize("name", list(CASES))
def test_fast_path_equals_general_path(name: str) -> None:
    obj = CASES[name]
    line = orjson.dumps(obj)
    events, malformed, _ = parse_chunk(line + b"\n", "proj-dir", "f.jsonl")
    try:
        expected = parse_line(obj, "proj-dir")
    except (ValueError, TypeError, AttributeError):
        assert malformed == 1 and not events
        return
    assert malformed == 0
    assert list(events.values()) == ([expected] if expected is not None else [])


def test_broken_json_is_counted_not_fatal() -> None:
    good = orjson.dumps(BASE)
    data = b'{"type":"assistant","message":{"usage":{"input_tokens":1}\n' + good + b"\n"
    events, malformed, problems = parse_chunk(data, "p", "f.jsonl")
    assert malformed == 1 and len(events) == 1
    assert "line 1" in problems[0]
