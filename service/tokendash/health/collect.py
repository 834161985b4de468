"""``collect_health(app)``: the ``SystemHealth`` result (SPEC §7) in proto JSON shape (camelCase, numbers
as JSON numbers, a reading the platform does not expose left out).

The probes start first, in their own threads; the host readings (including the CPU sampling window)
are taken while they wait, so the whole call costs about the probe timeout at worst.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from tokendash.health import host, light, probes

# Long enough for a meaningful CPU percentage, short enough to hide behind the probes.
CPU_SAMPLE_SECONDS = 0.2


def read_host(state_dir: Path, cpu_sample: float = CPU_SAMPLE_SECONDS) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ram": host.ram(),
        "swap": host.swap(),
        "cpu": host.cpu(cpu_sample),
        "disks": host.disks({"root": Path("/"), "state": state_dir}),
    }
    temps = host.temperatures()
    if temps:
        out["temperatures"] = temps
    out.update(host.uptime())
    out["sidecar"] = host.this_process()
    return out


def assess(health: dict[str, Any], thresholds: Any, state_dir: str | None = None) -> dict[str, Any]:
    """Add ``status``, ``recommendations`` and ``alerts`` to readings (in place, and returned)."""
    found = light.findings(health, thresholds)
    health["status"] = light.status_light(found)
    health["recommendations"] = light.recommendations(health, found, state_dir)
    health["alerts"] = light.health_alerts(health, found)
    return health


def collect_health(app: Any, *, probe_timeout: float | None = None) -> dict[str, Any]:
    settings = app.settings
    services: list[dict[str, Any]] = []
    prober = threading.Thread(target=lambda: services.extend(probes.probe_all(settings, probe_timeout)), daemon=True)
    prober.start()
    now = time.time()
    health: dict[str, Any] = {"timestamp": host.iso_utc(now)}
    health.update(read_host(Path(settings.home)))
    # probe_all bounds itself; the extra second only guards against a bug there.
    prober.join((probe_timeout or settings.health_probe_timeout_seconds) + 1.0)
    health["services"] = list(services)
    return assess(health, settings.health_thresholds, str(settings.home))
