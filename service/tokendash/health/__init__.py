"""Host health (SPEC §7) and the combined server-status report.

* ``collect_health(app)``: the ``SystemHealth`` dict behind ``token-dashboard.health`` and
  ``tokendash health``;
* ``server_status(app, now)``: the ``ServerStatusReport`` dict behind ``tokendash server-status``.

Modules: ``host`` (psutil readings), ``fetch`` and ``probes`` (Ollama, ChromaDB, gateway), ``light``
(thresholds, status light, recommendations, alerts), ``collect``, ``fx`` (display currency),
``budgets`` (budget remaining), ``report`` (the server-status assembly), ``text`` (text layouts).
"""

from __future__ import annotations

from typing import Any


def collect_health(app: Any, **kw: Any) -> dict[str, Any]:
    from tokendash.health.collect import collect_health as run

    return run(app, **kw)


def server_status(app: Any, now: Any = None, **kw: Any) -> dict[str, Any]:
    from tokendash.health.report import server_status as run

    return run(app, now, **kw)


__all__ = ["collect_health", "server_status"]
