"""Small readers that check one request parameter each and name it in their error (SPEC §8: -32602
"naming the field"). JSON booleans are not numbers here, and numbers must be finite."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from tokendash.errors import InvalidParams

_MISSING = object()


def as_object(params: Any, allowed: Iterable[str]) -> Mapping[str, Any]:
    """``params`` must be an object whose keys are all known."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise InvalidParams("params", "must be an object (by-name parameters)")
    names = set(allowed)
    for k in params:
        if k not in names:
            raise InvalidParams(str(k), f"unknown parameter; use {', '.join(sorted(names)) or 'none'}")
    return params


def number(params: Mapping[str, Any], name: str, default: float, lo: float, hi: float) -> float:
    v = params.get(name, _MISSING)
    if v is _MISSING or v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise InvalidParams(name, "must be a number")
    if not lo <= v <= hi:
        raise InvalidParams(name, f"must be between {lo:g} and {hi:g}")
    return float(v)


def integer(params: Mapping[str, Any], name: str, default: int | None, lo: int, hi: int) -> int | None:
    v = params.get(name, _MISSING)
    if v is _MISSING or v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int):
        raise InvalidParams(name, "must be an integer")
    if not lo <= v <= hi:
        raise InvalidParams(name, f"must be between {lo} and {hi}")
    return v


def boolean(params: Mapping[str, Any], name: str, default: bool) -> bool:
    v = params.get(name, _MISSING)
    if v is _MISSING or v is None:
        return default
    if not isinstance(v, bool):
        raise InvalidParams(name, "must be true or false")
    return v


def choice(params: Mapping[str, Any], name: str, default: str | None, allowed: tuple[str, ...]) -> str | None:
    v = params.get(name, _MISSING)
    if v is _MISSING or v is None:
        return default
    if not isinstance(v, str) or v not in allowed:
        raise InvalidParams(name, f"must be one of {', '.join(allowed)}")
    return v


def string(params: Mapping[str, Any], name: str, *, required: bool = False, max_len: int = 512) -> str | None:
    v = params.get(name, _MISSING)
    if v is _MISSING or v is None:
        if required:
            raise InvalidParams(name, "is required")
        return None
    if not isinstance(v, str):
        raise InvalidParams(name, "must be a string")
    if required and not v.strip():
        raise InvalidParams(name, "must not be empty")
    if len(v) > max_len:
        raise InvalidParams(name, f"must be at most {max_len} characters")
    return v


def string_list(params: Mapping[str, Any], name: str) -> list[str] | None:
    v = params.get(name, _MISSING)
    if v is _MISSING or v is None:
        return None
    if not isinstance(v, list):
        raise InvalidParams(name, "must be a list of strings")
    for i, x in enumerate(v):
        if not isinstance(x, str):
            raise InvalidParams(f"{name}[{i}]", "must be a string")
    return list(v)


def output_format(params: Mapping[str, Any]) -> str:
    return choice(params, "format", "json", ("json", "text")) or "json"
