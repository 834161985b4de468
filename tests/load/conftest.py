"""The load tests' figures (soak and chaos) are printed at the end of the session, whatever the
verbosity or capture mode, so CI's output carries them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.load.world import FIGURES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES.lines:
        return
    terminalreporter.section("load and fault figures (tests/load)")
    for line in FIGURES.lines:
        terminalreporter.write_line(line)


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    path = os.environ.get("TOKENDASH_LOAD_FIGURES")
    if path and FIGURES.data:
        Path(path).write_text(json.dumps(FIGURES.data, indent=1) + "\n")
