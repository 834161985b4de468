"""The status light, recommendations and health alerts on given readings, at every boundary: a reading
trips a limit only when strictly above it (SPEC §7: RAM > 75 % caution, > 90 % critical; swap > 80 %;
disk > 90 %)."""

from __future__ import annotations

from typing import Any

import pytest

from tokendash.config.settings import HealthThresholds
from tokendash.health.collect import assess
from tokendash.health.light import CAUTION, CRITICAL, HEALTHY, findings, level, status_light

GIB = 1024**3


def readings(ram: float = 40.0, swap: float = 0.0, swap_total: int = 2 * GIB, disks: tuple[float, ...] = (50.0,),
             temps: tuple[float, ...] = (), services: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    h: dict[str, Any] = {
        "timestamp": "2026-11-22T14:00:00Z",
        "ram": {"percent": ram, "usedBytes": 0, "totalBytes": 16 * GIB, "availableBytes": 0},
        "swap": {"percent": swap, "usedBytes": 0, "totalBytes": swap_total},
        "disks": [{"mountpoint": "/" if i == 0 else f"/mnt/d{i}", "roles": ["root"], "percent": p,
                   "usedBytes": 0, "totalBytes": 0, "freeBytes": 0} for i, p in enumerate(disks)],
        "services": services or [],
    }
    if temps:
        h["temperatures"] = [{"sensor": "coretemp", "label": f"Core {i}", "celsius": t} for i, t in enumerate(temps)]
    return h


def light(h: dict[str, Any], **limits: Any) -> str:
    return status_light(findings(h, HealthThresholds(**limits)))


@pytest.mark.parametrize(("ram", "expected"), [
    (0.0, HEALTHY), (75.0, HEALTHY), (75.01, CAUTION), (90.0, CAUTION), (90.01, CRITICAL), (100.0, CRITICAL),
])
def test_ram_boundaries(ram: float, expected: str) -> None:
    assert light(readings(ram=ram)) == expected


@pytest.mark.parametrize(("swap", "expected"), [(80.0, HEALTHY), (80.01, CAUTION), (100.0, CAUTION)])
def test_swap_boundaries(swap: float, expected: str) -> None:
    assert light(readings(swap=swap)) == expected


def test_no_swap_at_all_is_not_a_reading() -> None:
    # psutil reports 0 % of 0 bytes; a limit of 0 % must not trip on it.
    assert light(readings(swap=0.0, swap_total=0), swap_caution_percent=0) == HEALTHY
    assert light(readings(swap=0.5), swap_caution_percent=0) == CAUTION


@pytest.mark.parametrize(("disk", "expected"), [(90.0, HEALTHY), (90.01, CRITICAL)])
def test_disk_boundaries_on_every_mount(disk: float, expected: str) -> None:
    assert light(readings(disks=(10.0, disk))) == expected


def test_temperatures_only_with_configured_limits() -> None:
    hot = readings(temps=(45.0, 99.0))
    assert light(hot) == HEALTHY  # no temperature limit by default
    assert light(hot, temperature_caution_celsius=99.0) == HEALTHY
    assert light(hot, temperature_caution_celsius=98.9) == CAUTION
    assert light(hot, temperature_caution_celsius=80, temperature_critical_celsius=98.9) == CRITICAL


def test_a_sensors_own_high_and_critical_marks_apply_without_configured_limits() -> None:
    def sensor(celsius: float, high: float | None = 80.0, critical: float | None = 100.0) -> dict[str, Any]:
        h = readings()
        h["temperatures"] = [{"sensor": "coretemp", "label": "Package id 0", "celsius": celsius, "high": high, "critical": critical}]
        return h

    assert light(sensor(80.0)) == HEALTHY and light(sensor(80.5)) == CAUTION
    assert light(sensor(100.0)) == CAUTION and light(sensor(100.5)) == CRITICAL
    assert light(sensor(120.0, high=0.0, critical=-273.0)) == HEALTHY  # "no limit" spelled as 0 or below
    assert light(sensor(85.0), temperature_caution_celsius=90) == HEALTHY  # the configured limit wins
    found = findings(sensor(101.0), HealthThresholds())
    assert [(f.scope, f.level, f.limit) for f in found] == [("temperature:coretemp/Package id 0", CRITICAL, 100.0)]


def test_thresholds_are_configurable_and_can_be_switched_off() -> None:
    assert light(readings(ram=60.0), ram_caution_percent=50) == CAUTION
    assert light(readings(ram=95.0), ram_caution_percent=None, ram_critical_percent=None) == HEALTHY
    assert light(readings(ram=95.0), ram_critical_percent=None) == CAUTION
    assert level(None, 1, 2) == HEALTHY


def test_the_light_is_the_worst_reading() -> None:
    assert light(readings(ram=80.0, swap=85.0)) == CAUTION
    assert light(readings(ram=80.0, disks=(95.0,))) == CRITICAL


def test_thresholds_from_config_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    import os

    from tokendash.config.settings import load_settings

    for k in list(os.environ):
        if k.startswith("TOKENDASH_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("TOKENDASH_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text("[healthThresholds]\nramCautionPercent = 60\ndiskCriticalPercent = 80\n")
    t = load_settings().health_thresholds
    assert (t.ram_caution_percent, t.ram_critical_percent, t.disk_critical_percent) == (60, 90, 80)
    assert light(readings(ram=61.0)) == HEALTHY and status_light(findings(readings(ram=61.0), t)) == CAUTION


def test_recommendations_and_alerts_for_a_critical_host() -> None:
    ollama = {"name": "ollama", "url": "http://127.0.0.1:11434", "configured": True, "ok": True,
              "ollama": {"modelCount": 2, "totalSizeBytes": 9 * GIB, "loadedCount": 1, "loadedSizeBytes": 6 * GIB}}
    h = assess(readings(ram=93.0, swap=85.0, disks=(95.5,), services=[ollama]), HealthThresholds(), "/srv/td")
    assert h["status"] == CRITICAL
    assert h["recommendations"] == [
        {"severity": "critical", "message": "RAM at 93.0 % (critical above 90 %): close applications; "
                                            "Ollama holds 1 loaded model(s), 6.0 GiB: unload idle ones"},
        {"severity": "critical", "message": "Disk / at 95.5 % (critical above 90 %): free space "
                                            "(the tokendash state directory /srv/td is on it)"},
        {"severity": "warning", "message": "Swap at 85.0 % (caution above 80 %): the machine is short of RAM; "
                                           "Ollama holds 1 loaded model(s), 6.0 GiB: unload idle ones"},
    ]
    assert [(a["id"], a["type"], a["severity"], a["state"]) for a in h["alerts"]] == [
        ("health:ram", "health", "critical", "open"),
        ("health:swap", "health", "warning", "open"),
        ("health:disk:/", "health", "critical", "open"),
    ]
    assert h["alerts"][0]["message"] == "RAM at 93.0 % (above 90 %)"
    assert all(a["firstSeen"] == a["lastSeen"] == "2026-11-22T14:00:00Z" for a in h["alerts"])


def test_a_healthy_host_gets_an_all_clear_and_no_alerts() -> None:
    h = assess(readings(ram=75.0, swap=80.0, disks=(90.0,)), HealthThresholds())
    assert h["status"] == HEALTHY and h["alerts"] == []
    assert h["recommendations"] == [{"severity": "ok", "message": "RAM, swap and disk are within their limits"}]


def test_services_that_fail_or_answer_in_part() -> None:
    services = [
        {"name": "chromadb", "url": "http://127.0.0.1:8000", "configured": True, "ok": False,
         "error": "/api/v2/heartbeat: connection refused"},
        {"name": "ollama", "url": "http://127.0.0.1:11434", "configured": True, "ok": True, "warning": "/api/ps: HTTP 500"},
        {"name": "gateway", "url": "http://127.0.0.1:18789", "configured": False, "ok": False, "error": "/healthz: connection refused"},
        {"name": "chromadb", "configured": False, "ok": False},
    ]
    h = assess(readings(services=services), HealthThresholds())
    assert h["status"] == HEALTHY  # services never change the light
    assert h["recommendations"][1:] == [
        {"severity": "warning", "message": "ChromaDB is not answering at http://127.0.0.1:8000: /api/v2/heartbeat: connection refused"},
        {"severity": "info", "message": "Ollama: /api/ps: HTTP 500"},
        {"severity": "info", "message": "OpenClaw gateway not found at http://127.0.0.1:18789 (default address): /healthz: connection refused"},
    ]
