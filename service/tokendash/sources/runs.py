"""The link between an OpenClaw run the plugin records live and the same run's transcript rows.

The plugin's ``llm_output`` hook sends each run's usage to ``token-dashboard.record`` the moment the run
ends (``source = "record"``), with the idempotency key ``openclaw-run:<agent>:<session id>:<run id>``.
The ``openclaw`` source later reads the same run call by call from the transcript, whose assistant rows
carry ``__openclaw.runId``. The transcript is the finer record (one row per model call, its own cost),
so when it arrives it supersedes the live one: the store drops the ``record`` row and remembers the
key, so a record that comes in after the transcript is dropped too. Either order counts the run once.
"""

from __future__ import annotations

import hashlib

RECORD_SOURCE = "record"
RUN_KEY_PREFIX = "openclaw-run:"


def record_dedupe_key(idempotency_key: str) -> str:
    """What the store keeps of a record's idempotency key (the caller may have put anything in it)."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()


def run_idempotency_key(agent: str, session_id: str, run_id: str) -> str:
    return f"{RUN_KEY_PREFIX}{agent}:{session_id}:{run_id}"


def superseded_record(agent: str, session_id: str, run_id: str) -> tuple[str, str]:
    """``(source, dedupe key)`` of the live record a transcript row of this run replaces."""
    return RECORD_SOURCE, record_dedupe_key(run_idempotency_key(agent, session_id, run_id))
