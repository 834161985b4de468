"""The live readings on this machine agree with psutil read directly in the test, and nothing the
platform does not expose is filled in."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from tests.health.fakes import dead_port
from tokendash.health import collect_health
from tokendash.health.host import mountpoint

MIB = 1024**2


def test_live_readings_agree_with_psutil(make_app: Callable[..., Any], tmp_path: Path) -> None:
    app = make_app(ollama_url=dead_port(), gateway_url=dead_port())
    h = collect_health(app)
    vm, sw = psutil.virtual_memory(), psutil.swap_memory()
    assert h["ram"]["totalBytes"] == vm.total
    # Other processes allocate between the two reads: "agree" within a margin that still catches a wrong field.
    assert abs(h["ram"]["percent"] - vm.percent) < 5 and abs(h["ram"]["availableBytes"] - vm.available) < 1024 * MIB
    assert h["swap"]["totalBytes"] == sw.total
    assert h["cpu"]["cores"] == psutil.cpu_count() and 0.0 <= h["cpu"]["percent"] <= 100.0
    if hasattr(os, "getloadavg"):
        assert abs(h["cpu"]["load1"] - os.getloadavg()[0]) < 2.0
    root = next(d for d in h["disks"] if "root" in d["roles"])
    assert root["mountpoint"] == "/" and root["totalBytes"] == psutil.disk_usage("/").total
    state = next(d for d in h["disks"] if "state" in d["roles"])
    assert state["mountpoint"] == str(mountpoint(app.settings.home))
    assert state["totalBytes"] == psutil.disk_usage(state["mountpoint"]).total
    assert abs(h["uptimeSeconds"] - (time.time() - psutil.boot_time())) < 5
    me = psutil.Process()
    assert h["sidecar"]["pid"] == os.getpid()
    assert abs(h["sidecar"]["rssBytes"] - me.memory_info().rss) < 64 * MIB


def test_temperatures_are_exactly_what_the_platform_exposes(make_app: Callable[..., Any]) -> None:
    h = collect_health(make_app(ollama_url=dead_port(), gateway_url=dead_port()))
    read = getattr(psutil, "sensors_temperatures", None)
    sensors = read() if read else {}
    expected = sum(len(v) for v in sensors.values())
    if expected == 0:
        assert "temperatures" not in h  # absent, never invented
    else:
        assert len(h["temperatures"]) == expected
        assert all(isinstance(t["celsius"], float | int) for t in h["temperatures"])


def test_a_state_directory_that_does_not_exist_yet_is_measured_on_its_parent_mount(tmp_path: Path) -> None:
    missing = tmp_path / "not" / "yet"
    assert mountpoint(missing) == mountpoint(tmp_path)
    assert os.path.ismount(mountpoint(missing))
