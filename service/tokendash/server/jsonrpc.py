"""JSON-RPC 2.0 envelopes (SPEC §8): single calls, batches, notifications and the error codes.

    -32700 parse error          -32600 invalid request       -32601 method not found
    -32602 invalid params       -32603 internal error        -32001 unauthorized
    -32002 unavailable          -32003 rate limited

Handlers that answer from memory run on the event loop; the others run in a thread pool, so a slow
store or a long ``status`` never blocks ``cached``. An error never carries a stack trace.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from concurrent.futures import Executor
from typing import Any

import orjson

from tokendash.api.codec import Encoded, dumps
from tokendash.api.methods import METHODS, Context
from tokendash.errors import InvalidParams, NotFound, TokendashError, Unauthorized, Unavailable

log = logging.getLogger("tokendash.server")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
UNAUTHORIZED = -32001
UNAVAILABLE = -32002
RATE_LIMITED = -32003

MAX_BATCH = 100
MAX_IN_FLIGHT = 64  # calls waiting for the thread pool; beyond this a call is rate limited
_MEMBERS = frozenset(("jsonrpc", "method", "params", "id"))
_MISSING = object()


def error(rid: Any, code: int, message: str, data: Mapping[str, Any] | None = None) -> bytes:
    err: dict[str, Any] = {"code": code, "message": message}
    if data:
        err["data"] = dict(data)
    return dumps({"jsonrpc": "2.0", "id": rid, "error": err})


def success(rid: Any, result: Any) -> bytes:
    body = result.json if isinstance(result, Encoded) else dumps(result)
    return b'{"jsonrpc":"2.0","id":' + dumps(rid) + b',"result":' + body + b"}"


def _valid_id(rid: Any) -> bool:
    return rid is None or (isinstance(rid, str | int | float) and not isinstance(rid, bool))


class Dispatcher:
    def __init__(self, ctx: Context, executor: Executor) -> None:
        self.ctx = ctx
        self.executor = executor
        self.in_flight = 0

    async def handle(self, body: bytes) -> bytes | None:
        """A response body, or None when every call was a notification."""
        try:
            req = orjson.loads(body)
        except orjson.JSONDecodeError as e:
            return error(None, PARSE_ERROR, f"parse error: {str(e).split(':')[0]}")
        if isinstance(req, list):
            if not req:
                return error(None, INVALID_REQUEST, "invalid request: empty batch")
            if len(req) > MAX_BATCH:
                return error(None, INVALID_REQUEST, f"invalid request: at most {MAX_BATCH} calls in a batch")
            parts = [p for p in await asyncio.gather(*(self.call(r) for r in req)) if p is not None]
            return b"[" + b",".join(parts) + b"]" if parts else None
        return await self.call(req)

    async def call(self, req: Any) -> bytes | None:
        if not isinstance(req, dict):
            return error(None, INVALID_REQUEST, "invalid request: a call must be an object")
        rid = req.get("id", _MISSING)
        notification = rid is _MISSING
        if not notification and not _valid_id(rid):
            return error(None, INVALID_REQUEST, "invalid request: id must be a string, a number or null")
        out_id = None if notification else rid
        if req.get("jsonrpc") != "2.0":
            return error(out_id, INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"')
        method = req.get("method")
        if not isinstance(method, str):
            return error(out_id, INVALID_REQUEST, 'invalid request: "method" must be a string')
        extra = [k for k in req if k not in _MEMBERS]
        if extra:
            return error(out_id, INVALID_REQUEST, f"invalid request: unknown member {str(extra[0])[:64]!r}")
        m = METHODS.get(method)
        if m is None:
            return None if notification else error(out_id, METHOD_NOT_FOUND, f"method not found: {method[:100]}")
        params = req.get("params", _MISSING)
        if params is _MISSING or params is None:
            params = {}
        if not isinstance(params, dict):
            return error(out_id, INVALID_PARAMS, "invalid params: params: must be an object (by-name parameters)",
                         {"field": "params"})
        try:
            result = await self._run(m, params)
        except InvalidParams as e:
            return error(out_id, INVALID_PARAMS, f"invalid params: {e}", {"field": e.field})
        except Unauthorized as e:
            return error(out_id, UNAUTHORIZED, str(e) or "unauthorized")
        except Unavailable as e:
            return error(out_id, UNAVAILABLE, f"unavailable: {e}")
        except _RateLimited:
            return error(out_id, RATE_LIMITED, "rate limited: too many calls in progress; retry shortly")
        except NotFound as e:
            return error(out_id, METHOD_NOT_FOUND, str(e))
        except TokendashError as e:  # store or config trouble: its message is written to be shown
            return error(out_id, INTERNAL_ERROR, f"internal error: {e}")
        except Exception:
            log.exception("%s failed", method)
            return error(out_id, INTERNAL_ERROR, "internal error")
        return None if notification else success(out_id, result)

    async def _run(self, m: Any, params: dict[str, Any]) -> Any:
        if m.inline:
            return m.handler(self.ctx, params)
        if self.in_flight >= MAX_IN_FLIGHT:
            raise _RateLimited
        self.in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, m.handler, self.ctx, params)
        finally:
            self.in_flight -= 1


class _RateLimited(Exception):
    pass
