"""One pass over sources: poll → price → store. Each batch is committed with its cursors, so an
interrupted pass (even ``kill -9``) resumes exactly where the last committed batch ended."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tokendash.pricing.prices import PriceBook
from tokendash.sources.base import PollBatch, Source
from tokendash.store.repo import Store

Progress = Callable[[str, PollBatch], None]


@dataclass
class IngestResult:
    source: str
    ok: bool = True
    error: str | None = None
    files: int = 0
    bytes_read: int = 0
    events_seen: int = 0
    events_written: int = 0
    snapshots: int = 0
    malformed_lines: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "source": self.source, "ok": self.ok, "error": self.error, "files": self.files,
            "bytesRead": self.bytes_read, "eventsSeen": self.events_seen, "items": self.events_written,
            "snapshots": self.snapshots, "malformedLines": self.malformed_lines, "problems": self.problems,
        }


def ingest_source(store: Store, prices: PriceBook, source: Source, progress: Progress | None = None) -> IngestResult:
    res = IngestResult(source.id)
    try:
        cursors = store.load_cursors(source.id)
        for batch in source.poll(cursors):
            priced = [(e, prices.price(e)) for e in batch.events]
            res.events_written += store.write_batch(source.id, priced, batch.snapshots, batch.cursors)
            res.events_seen += len(batch.events)
            res.snapshots += len(batch.snapshots)
            res.files += batch.files
            res.bytes_read += batch.bytes_read
            res.malformed_lines += batch.malformed_lines
            res.problems.extend(batch.problems)
            if progress is not None:
                progress(source.id, batch)
    except Exception as e:  # one source failing never stops the others
        res.ok = False
        res.error = f"{source.id}: {type(e).__name__}: {e}"
    store.set_source_state(
        source.id, ok=res.ok, error=res.error, files=res.files if res.ok else None,
        malformed_lines=res.malformed_lines, problems=res.problems,
    )
    return res


def ingest(store: Store, prices: PriceBook, sources: Iterable[Source], progress: Progress | None = None) -> list[IngestResult]:
    return [ingest_source(store, prices, s, progress) for s in sources]
