"""The in-process ``Context``: what a CLI command uses when no sidecar answers. It has no cache and no
scheduler, so it builds the dashboard from the store on each call; ``refresh`` (and ``status`` with
``refresh: true``) read the sources right here. With the same store it returns what the sidecar
returns, so the CLI prints the same thing either way.

``maxAgeSeconds`` does not start a pass here: a short-lived command that reads every log before
answering would be slow, and ``tokendash status --refresh`` asks for that explicitly.
"""

from __future__ import annotations

from typing import Any

from tokendash.api.methods import summary


class LocalContext:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._summary: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        if self._summary is None:
            self._summary = summary(self.app)
        return self._summary

    def status(self, *, max_age: float, refresh: bool, timeout: float, fmt: str,
               host: str | None = None) -> dict[str, Any]:
        if refresh:
            self.refresh(None, timeout)
        result = dict(self.summary() if host is None else summary(self.app, host=host))
        if fmt == "text":
            from tokendash.render.text import render_summary

            result["text"] = render_summary(result)
        return result

    def cached(self, fmt: str) -> dict[str, Any]:
        return self.status(max_age=float("inf"), refresh=False, timeout=0, fmt=fmt)

    def refresh(self, sources: list[str] | None, timeout: float, wait_dashboard: bool = True) -> list[dict[str, Any]]:
        from tokendash.ingest import ingest

        app = self.app
        chosen = [s for s in app.sources(sources) if sources or s.configured()]
        results = ingest(app.store, app.prices, chosen)
        self.changed()
        return [refresh_result(r) for r in results]

    def changed(self) -> None:
        self._summary = None

    invalidate = changed

    def source_ids(self) -> list[str]:
        return [s.id for s in self.app.sources()]


def refresh_result(r: Any) -> dict[str, Any]:
    """An ``IngestResult`` as a ``RefreshResult``."""
    out: dict[str, Any] = {"source": r.source, "ok": r.ok, "items": r.events_written}
    if r.error:
        out["error"] = r.error
    if r.files or r.bytes_read or r.events_seen or r.malformed_lines or r.problems:  # a local source read
        out.update(files=r.files, bytesRead=r.bytes_read, eventsSeen=r.events_seen, snapshots=r.snapshots,
                   malformedLines=r.malformed_lines, problems=list(r.problems))
    return out
