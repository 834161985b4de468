"""Service probes (SPEC §7): Ollama, ChromaDB and the OpenClaw gateway, all at once with one deadline.

Response shapes:

* Ollama ``GET /api/tags`` → ``{"models": [{name, model, modified_at, size, digest, details: {format,
  family, families, parameter_size, quantization_level}}]}``; ``size`` is bytes on disk.
  ``GET /api/ps`` → ``{"models": [{name, model, size, digest, details, expires_at, size_vram,
  context_length}]}``; ``size`` is bytes in memory, ``size_vram`` the part in GPU memory.
  Source: docs.ollama.com/api/tags and docs.ollama.com/api/ps (the OpenAPI examples there).
* ChromaDB v2 ``GET /api/v2/heartbeat`` → ``{"nanosecond heartbeat": <int>}``;
  ``GET /api/v2/tenants/{tenant}/databases/{database}/collections_count`` → a bare integer
  (``CountCollectionsResponse = u32``). Source: chroma-core/chroma ``rust/frontend/src/server.rs``
  (routes and handlers) and ``chroma_types`` (the response types). A token goes in ``X-Chroma-Token``
  and as a bearer token, the two headers Chroma's token auth accepts.
* OpenClaw gateway ``GET /healthz`` → ``{"ok": true, "status": "live"}``, no auth
  (reference/openclaw-plugin-api.md; ``/readyz`` is the readiness check, not needed here).

Settings: ``TOKENDASH_OLLAMA_URL`` (default ``http://127.0.0.1:11434``), ``TOKENDASH_CHROMADB_URL`` (unset:
no probe) with ``TOKENDASH_CHROMADB_TOKEN``/``_TENANT``/``_DATABASE``, ``TOKENDASH_GATEWAY_URL`` (default:
the OpenClaw config's ``gateway.port`` on loopback, else 18789); ``off`` switches a probe off; all share
``TOKENDASH_HEALTH_PROBE_TIMEOUT_SECONDS`` (1 s) as one deadline.

A probe that fails says why (``error``) and the service is ``ok: false``; a secondary endpoint that fails
(``/api/ps``, the collection count) leaves the service ``ok`` with a ``warning``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from tokendash.health.fetch import Request, Response, fetch_all, json_number, public_url

DEFAULT_GATEWAY_PORT = 18789


def gateway_url(settings: Any) -> str:
    """``TOKENDASH_GATEWAY_URL``, else ``gateway.port`` from the OpenClaw config, else the default port."""
    return _gateway(settings)[0]


def _gateway(settings: Any) -> tuple[str, bool]:
    """The gateway URL and whether it was configured (rather than the default guess)."""
    if settings.gateway_url:
        return str(settings.gateway_url), True
    port: Any = None
    try:
        from tokendash.config.openclaw import load_openclaw_config

        cfg = load_openclaw_config(settings.openclaw_state_dir) or {}
        gw = cfg.get("gateway") if isinstance(cfg, Mapping) else None
        port = gw.get("port") if isinstance(gw, Mapping) else None
    except Exception:  # an unreadable OpenClaw config: probe the default port (doctor reports the config)
        port = None
    if not (isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536):
        return f"http://127.0.0.1:{DEFAULT_GATEWAY_PORT}", False
    return f"http://127.0.0.1:{port}", True


def _on(url: str | None) -> bool:
    """``off`` (or empty) switches a probe off, as ``TOKENDASH_GRPC_ADDR=off`` does the listener."""
    return bool(url) and str(url).strip().lower() != "off"


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + path


def plan(settings: Any) -> dict[str, Request]:
    """The requests to make, keyed ``service.endpoint``."""
    reqs: dict[str, Request] = {}
    ollama = settings.ollama_url
    if _on(ollama):
        reqs["ollama.tags"] = Request(_join(ollama, "/api/tags"))
        reqs["ollama.ps"] = Request(_join(ollama, "/api/ps"))
    if _on(settings.chromadb_url):
        headers = {}
        if settings.chromadb_token:
            headers = {"X-Chroma-Token": settings.chromadb_token, "Authorization": f"Bearer {settings.chromadb_token}"}
        base = _join(settings.chromadb_url, "/api/v2")
        tenant, db = quote(settings.chromadb_tenant, safe=""), quote(settings.chromadb_database, safe="")
        reqs["chromadb.heartbeat"] = Request(base + "/heartbeat", headers)
        reqs["chromadb.count"] = Request(f"{base}/tenants/{tenant}/databases/{db}/collections_count", headers)
    if _on(settings.gateway_url or "default"):
        reqs["gateway.healthz"] = Request(_join(gateway_url(settings), "/healthz"))
    return reqs


class BadBody(ValueError):
    """The service answered with a body of the wrong shape (the message names the field)."""


def _model_list(body: Any, endpoint: str) -> list[Mapping[str, Any]]:
    models = body.get("models") if isinstance(body, Mapping) else None
    if not isinstance(models, list):
        raise BadBody(f"{endpoint}: no models list")
    for i, m in enumerate(models):
        if not isinstance(m, Mapping) or not isinstance(m.get("name") or m.get("model"), str):
            raise BadBody(f"{endpoint}: models[{i}] has no name")
        if not json_number(m.get("size")) or m["size"] < 0:
            raise BadBody(f"{endpoint}: models[{i}].size is not a byte count")
    return models


def _details(m: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    d = m.get("details")
    if isinstance(d, Mapping):
        for src, dst in (("family", "family"), ("parameter_size", "parameterSize"), ("quantization_level", "quantizationLevel")):
            if isinstance(d.get(src), str) and d[src]:
                out[dst] = d[src]
    return out


def ollama(url: str, tags: Response, ps: Response, configured: bool = True) -> dict[str, Any]:
    svc: dict[str, Any] = {"name": "ollama", "url": public_url(url), "configured": configured}
    if not tags.ok:
        return {**svc, "ok": False, "error": f"/api/tags: {tags.error}"}
    try:
        models = _model_list(tags.body, "/api/tags")
    except BadBody as e:
        return {**svc, "ok": False, "error": str(e)}
    info: dict[str, Any] = {
        "modelCount": len(models),
        "totalSizeBytes": int(sum(m["size"] for m in models)),
        "models": [
            {"name": m.get("name") or m.get("model"), "sizeBytes": int(m["size"]), **_details(m)}
            for m in sorted(models, key=lambda m: -m["size"])
        ],
    }
    svc.update(ok=True, latencyMs=tags.ms, ollama=info)
    if not ps.ok:
        svc["warning"] = f"/api/ps: {ps.error}"
        return svc
    try:
        loaded = _model_list(ps.body, "/api/ps")
    except BadBody as e:
        svc["warning"] = str(e)
        return svc
    running = []
    for m in loaded:
        r: dict[str, Any] = {"name": m.get("name") or m.get("model"), "sizeBytes": int(m["size"])}
        if json_number(m.get("size_vram")):
            r["sizeVramBytes"] = int(m["size_vram"])
        if isinstance(m.get("expires_at"), str):
            r["expiresAt"] = m["expires_at"]
        running.append(r)
    info["loadedCount"] = len(running)
    info["loadedSizeBytes"] = int(sum(r["sizeBytes"] for r in running))
    info["loaded"] = running
    return svc


def chromadb(url: str | None, heartbeat: Response | None, count: Response | None) -> dict[str, Any]:
    if not url or heartbeat is None:
        return {"name": "chromadb", "configured": False, "ok": False}
    svc: dict[str, Any] = {"name": "chromadb", "url": public_url(url), "configured": True}
    if not heartbeat.ok:
        return {**svc, "ok": False, "error": f"/api/v2/heartbeat: {heartbeat.error}"}
    beat = heartbeat.body.get("nanosecond heartbeat") if isinstance(heartbeat.body, Mapping) else None
    if not json_number(beat):
        return {**svc, "ok": False, "error": "/api/v2/heartbeat: no nanosecond heartbeat"}
    info: dict[str, Any] = {"heartbeatNs": int(beat)}
    svc.update(ok=True, latencyMs=heartbeat.ms, chromadb=info)
    if count is None or not count.ok:
        svc["warning"] = f"collections_count: {count.error if count else 'not asked'}"
    elif not json_number(count.body) or count.body < 0:
        svc["warning"] = "collections_count: not a count"
    else:
        info["collectionCount"] = int(count.body)
    return svc


def gateway(url: str, healthz: Response, configured: bool = True) -> dict[str, Any]:
    svc: dict[str, Any] = {"name": "gateway", "url": public_url(url), "configured": configured}
    if not healthz.ok:
        return {**svc, "ok": False, "error": f"/healthz: {healthz.error}"}
    body = healthz.body if isinstance(healthz.body, Mapping) else {}
    info: dict[str, Any] = {}
    if isinstance(body.get("status"), str):
        info["status"] = body["status"]
    if body.get("ok") is False:
        return {**svc, "ok": False, "latencyMs": healthz.ms, "error": "/healthz: ok is false", "gateway": info}
    return {**svc, "ok": True, "latencyMs": healthz.ms, "gateway": info}


def probe_all(settings: Any, timeout: float | None = None) -> list[dict[str, Any]]:
    """Every service's status, in a fixed order, within ``timeout`` seconds in total."""
    t = settings.health_probe_timeout_seconds if timeout is None else timeout
    res = fetch_all(plan(settings), t)
    out = []
    if _on(settings.ollama_url):
        # Probed at its default address too; "configured" only when the user set it.
        explicit = "ollama_url" in settings.model_fields_set
        out.append(ollama(settings.ollama_url, res["ollama.tags"], res["ollama.ps"], explicit))
    chroma = settings.chromadb_url if _on(settings.chromadb_url) else None
    out.append(chromadb(chroma, res.get("chromadb.heartbeat"), res.get("chromadb.count")))
    if "gateway.healthz" in res:
        gw_url, gw_configured = _gateway(settings)
        out.append(gateway(gw_url, res["gateway.healthz"], gw_configured))
    return out
