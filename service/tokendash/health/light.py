"""The status light, the recommendations and the ``health`` alerts, from readings and thresholds.

Pure functions of a ``SystemHealth`` dict and the ``[healthThresholds]`` settings, so every boundary is
testable with given readings. A reading trips a limit only when it is strictly above it (SPEC §7: "RAM
> 75 % caution"). The light is the worst host level; a service that does not answer gets a
recommendation but does not change the light (Ollama is probed by default, and a machine without it is
not unhealthy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HEALTHY, CAUTION, CRITICAL = "HEALTHY", "CAUTION", "CRITICAL"
_RANK = {HEALTHY: 0, CAUTION: 1, CRITICAL: 2}
# Recommendation and alert severities (the UsageAlert vocabulary of SPEC §8).
SEVERITY = {CAUTION: "warning", CRITICAL: "critical"}

GIB = 1024**3


@dataclass(frozen=True)
class Finding:
    scope: str  # "ram", "swap", "disk:/", "temperature:coretemp/Core 0"
    label: str  # for people: "RAM", "Disk /"
    level: str  # CAUTION or CRITICAL
    value: float
    limit: float
    unit: str  # "%" or "°C"


def level(value: float | None, caution: float | None, critical: float | None) -> str:
    if value is None:
        return HEALTHY
    if critical is not None and value > critical:
        return CRITICAL
    if caution is not None and value > caution:
        return CAUTION
    return HEALTHY


def _limits(t: Any, name: str, unit: str) -> tuple[float | None, float | None]:
    suffix = "percent" if unit == "%" else "celsius"
    return getattr(t, f"{name}_caution_{suffix}"), getattr(t, f"{name}_critical_{suffix}")


def _sensor_limit(v: Any) -> float | None:
    # Drivers report 0 or negative "limits" for sensors that have none.
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) and v > 0 else None


def _check(out: list[Finding], t: Any, name: str, scope: str, label: str, value: float | None, unit: str = "%",
           own: tuple[float | None, float | None] = (None, None)) -> None:
    caution, critical = _limits(t, name, unit)
    caution = own[0] if caution is None else caution
    critical = own[1] if critical is None else critical
    lv = level(value, caution, critical)
    if lv != HEALTHY and value is not None:
        limit = critical if lv == CRITICAL else caution
        out.append(Finding(scope, label, lv, value, float(limit), unit))  # type: ignore[arg-type]


def findings(health: Mapping[str, Any], thresholds: Any) -> list[Finding]:
    out: list[Finding] = []
    _check(out, thresholds, "ram", "ram", "RAM", (health.get("ram") or {}).get("percent"))
    sw = health.get("swap") or {}
    if sw.get("totalBytes"):  # no swap configured is not "0 % used"
        _check(out, thresholds, "swap", "swap", "Swap", sw.get("percent"))
    for d in health.get("disks") or []:
        _check(out, thresholds, "disk", f"disk:{d['mountpoint']}", f"Disk {d['mountpoint']}", d.get("percent"))
    for s in health.get("temperatures") or []:
        name = f"{s['sensor']}/{s['label']}"
        # Without a configured limit, the sensor's own high and critical marks (as psutil reports them).
        own = (_sensor_limit(s.get("high")), _sensor_limit(s.get("critical")))
        _check(out, thresholds, "temperature", f"temperature:{name}", f"Temperature {name}", s.get("celsius"), "°C", own)
    return out


def status_light(found: list[Finding]) -> str:
    return max((f.level for f in found), key=_RANK.__getitem__, default=HEALTHY)


def _gb(n: float) -> str:
    return f"{n / GIB:.1f} GiB"


def _ollama_hint(health: Mapping[str, Any]) -> str:
    for s in health.get("services") or []:
        info = s.get("ollama") or {}
        if s.get("name") == "ollama" and info.get("loadedCount"):
            return f"; Ollama holds {info['loadedCount']} loaded model(s), {_gb(info['loadedSizeBytes'])}: unload idle ones"
    return ""


def _advice(f: Finding, health: Mapping[str, Any], state_dir: str | None) -> str:
    kind = f.scope.split(":", 1)[0]
    if kind == "ram":
        base = "close applications" if f.level == CRITICAL else "check what is using memory"
        return base + _ollama_hint(health)
    if kind == "swap":
        return "the machine is short of RAM" + _ollama_hint(health)
    if kind == "disk":
        return "free space" + (f" (the tokendash state directory {state_dir} is on it)" if state_dir else "")
    return "check cooling and load"


def recommendations(health: Mapping[str, Any], found: list[Finding], state_dir: str | None = None) -> list[dict[str, str]]:
    """``[{severity, message}]`` (severity ``ok``, ``info``, ``warning`` or ``critical``): one per finding
    (or an all-clear), one per service that did not answer or answered only in part."""
    out: list[dict[str, str]] = []
    for f in sorted(found, key=lambda f: -_RANK[f.level]):
        what = "critical" if f.level == CRITICAL else "caution"
        value = f"{f.value:.1f} {f.unit}"
        out.append({
            "severity": SEVERITY[f.level],
            "message": f"{f.label} at {value} ({what} above {f.limit:g} {f.unit}): {_advice(f, health, state_dir)}",
        })
    if not found:
        out.append({"severity": "ok", "message": "RAM, swap and disk are within their limits"})
    for s in health.get("services") or []:
        if s.get("configured") and not s.get("ok"):
            out.append({"severity": "warning", "message": f"{_service_name(s['name'])} is not answering at {s.get('url')}: {s.get('error')}"})
        elif s.get("url") and not s.get("ok"):  # probed at its default address only
            out.append({"severity": "info", "message": f"{_service_name(s['name'])} not found at {s['url']} (default address): {s.get('error')}"})
        elif s.get("ok") and s.get("warning"):
            out.append({"severity": "info", "message": f"{_service_name(s['name'])}: {s['warning']}"})
    return out


def _service_name(name: str) -> str:
    return {"ollama": "Ollama", "chromadb": "ChromaDB", "gateway": "OpenClaw gateway"}.get(name, name)


def health_alerts(health: Mapping[str, Any], found: list[Finding]) -> list[dict[str, Any]]:
    """The open ``health`` alerts (SPEC §6) as ``UsageAlert`` dicts: one per tripped host limit, keyed by
    scope so the alert engine keeps one open alert per scope and resolves it when it disappears."""
    ts = health.get("timestamp")
    return [
        {
            "id": f"health:{f.scope}",
            "scope": f.scope,
            "type": "health",
            "message": f"{f.label} at {f.value:.1f} {f.unit} (above {f.limit:g} {f.unit})",
            "severity": SEVERITY[f.level],
            "state": "open",
            "firstSeen": ts,
            "lastSeen": ts,
            "timestamp": ts,
        }
        for f in found
    ]
