"""A warm tokendash process for the benchmark: one ``ingest`` pass per ``ingest`` line on stdin, the way
the always-on service runs them (imports done, price data loaded, store open), answering each with one
JSON line ``{"seconds": …, "items": …, "bytesRead": …}`` on stdout.

Used by ``ingest_vs_ccusage.py``; settings come from the environment (``TOKENDASH_HOME``,
``CLAUDE_CONFIG_DIR``, ``CODEX_HOME``, ``OPENCLAW_STATE_DIR``) as for the CLI.
"""

from __future__ import annotations

import json
import sys
import time

from tokendash.app import App
from tokendash.ingest import ingest


def main() -> int:
    app = App()
    for line in sys.stdin:
        if line.strip() != "ingest":
            continue
        t0 = time.perf_counter()
        sources = [s for s in app.sources() if s.configured()]
        results = ingest(app.store, app.prices, sources)
        seconds = time.perf_counter() - t0
        out = {
            "seconds": seconds,
            "items": sum(r.events_written for r in results),
            "bytesRead": sum(r.bytes_read for r in results),
            "ok": all(r.ok for r in results),
        }
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
