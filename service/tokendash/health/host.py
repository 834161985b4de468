"""Host readings from psutil (SPEC §7): RAM, swap, CPU, disks, temperatures, uptime and this process.

Only what the platform exposes: a reading psutil cannot give (temperatures on macOS, in most
containers) is left out, never estimated. Everything here is cheap except the CPU percentage, which
needs a short sampling window; the caller runs it while the service probes wait on the network.
"""

from __future__ import annotations

import contextlib
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil


def iso_utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def ram() -> dict[str, Any]:
    vm = psutil.virtual_memory()
    return {"percent": vm.percent, "usedBytes": vm.used, "totalBytes": vm.total, "availableBytes": vm.available}


def swap() -> dict[str, Any]:
    sw = psutil.swap_memory()
    return {"percent": sw.percent, "usedBytes": sw.used, "totalBytes": sw.total}


def cpu(sample_seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with contextlib.suppress(AttributeError, OSError):  # no load average on this platform
        out["load1"], out["load5"], out["load15"] = psutil.getloadavg()
    # A blocking sample: the first non-blocking call of a process always returns 0.0, which would be a
    # made-up reading.
    out["percent"] = psutil.cpu_percent(interval=sample_seconds)
    out["cores"] = psutil.cpu_count(logical=True) or 0
    physical = psutil.cpu_count(logical=False)
    if physical:
        out["physicalCores"] = physical
    return out


def mountpoint(path: Path) -> Path:
    """The mount that holds ``path`` (or, when it does not exist yet, its nearest existing parent)."""
    p = path.expanduser().absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    p = p.resolve()
    while not os.path.ismount(p) and p != p.parent:
        p = p.parent
    return p


def disks(paths: dict[str, Path]) -> list[dict[str, Any]]:
    """One entry per mount; ``roles`` says which of ``paths`` ("root", "state") live on it."""
    out: dict[Path, dict[str, Any]] = {}
    for role, path in paths.items():
        try:
            mount = mountpoint(path)
        except OSError:  # e.g. a state directory we may not look into: no reading rather than a guess
            continue
        entry = out.get(mount)
        if entry is None:
            try:
                du = psutil.disk_usage(str(mount))
            except OSError:
                continue
            entry = out[mount] = {
                "mountpoint": str(mount),
                "roles": [],
                "percent": du.percent,
                "usedBytes": du.used,
                "totalBytes": du.total,
                "freeBytes": du.free,
            }
        entry["roles"].append(role)
    return list(out.values())


def temperatures() -> list[dict[str, Any]]:
    """Every sensor psutil reports, as reported; an empty list where the platform exposes none."""
    read = getattr(psutil, "sensors_temperatures", None)  # absent on macOS and Windows
    if read is None:
        return []
    try:
        sensors = read()
    except (OSError, RuntimeError):
        return []
    out = []
    for sensor, entries in sorted(sensors.items()):
        for e in entries:
            t: dict[str, Any] = {"sensor": sensor, "label": e.label or sensor, "celsius": e.current}
            if e.high is not None:
                t["high"] = e.high
            if e.critical is not None:
                t["critical"] = e.critical
            out.append(t)
    return out


def uptime() -> dict[str, Any]:
    boot = psutil.boot_time()
    return {"uptimeSeconds": max(0.0, time.time() - boot), "bootTime": iso_utc(boot)}


def this_process() -> dict[str, Any]:
    """The sidecar's own footprint (in the CLI without a sidecar: the CLI process)."""
    p = psutil.Process()
    with p.oneshot():
        mem = p.memory_info()
        created = p.create_time()
        threads = p.num_threads()
    return {
        "pid": p.pid,
        "rssBytes": mem.rss,
        "vmsBytes": mem.vms,
        "threads": threads,
        "uptimeSeconds": max(0.0, time.time() - created),
    }
