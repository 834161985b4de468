"""Incremental reading of append-only log files, shared by the JSONL sources.

For each file we remember (device, inode, size, mtime, byte offset, parser version) and a fingerprint of
the bytes just before the offset. A pass then reads only what was appended:

* unchanged size and mtime → the file is not opened at all;
* grown, same inode, same fingerprint → read from the offset;
* shrunk, replaced (new inode), rewritten in place (fingerprint differs) or a new parser version →
  read the whole file again; the store de-duplicates, so nothing already stored is lost or doubled;
* only complete lines are consumed; a trailing partial line waits for the next pass.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from tokendash.sources.base import FileCursor

FINGERPRINT_BYTES = 256


def fingerprint(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=12).hexdigest()


@dataclass(slots=True)
class Chunk:
    """Complete lines read from one file: ``data`` starts at ``start`` in the file."""

    path: str
    data: bytes
    start: int
    reset: bool  # True when the file is read from the start with fresh parser state
    cursor: FileCursor  # the cursor to persist once ``data`` is stored
    more: bool = False  # read was cut at ``max_bytes``: call again with ``cursor`` for the rest


class Unreadable(Exception):
    pass


def needs_read(path: str, st: os.stat_result, cursor: FileCursor | None, parser_version: int) -> bool:
    if cursor is None or cursor.parser_version != parser_version:
        return True
    if (cursor.dev, cursor.inode) != (st.st_dev, st.st_ino):
        return True
    return not (st.st_size == cursor.size and st.st_mtime_ns == cursor.mtime_ns)


def read_new_lines(
    path: str, cursor: FileCursor | None, parser_version: int, max_bytes: int | None = None
) -> Chunk | None:
    """Return the complete lines appended since ``cursor`` (or the whole file when it must be re-read),
    or None when nothing changed. Raises ``Unreadable`` with a reason when the file cannot be read.

    With ``max_bytes`` at most about that much is read (more only for a single longer line); the
    returned cursor then records ``size = offset``, so the rest is read by the next call even if the
    process dies in between (a cursor claiming the file's real size would make it look finished)."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if not needs_read(path, st, cursor, parser_version):
                return None
            reset = (
                cursor is None
                or cursor.parser_version != parser_version
                or (cursor.dev, cursor.inode) != (st.st_dev, st.st_ino)
                or st.st_size < cursor.offset
            )
            if not reset and cursor is not None and cursor.offset > 0:
                fp_start = max(0, cursor.offset - FINGERPRINT_BYTES)
                f.seek(fp_start)
                if fingerprint(f.read(cursor.offset - fp_start)) != cursor.state.get("_fp"):
                    reset = True  # rewritten in place (resume, compaction)
            start = 0 if reset or cursor is None else cursor.offset
            f.seek(start)
            if max_bytes is None or st.st_size - start <= max_bytes:
                data = f.read()
                more = False
            else:
                data = f.read(max_bytes)
                while b"\n" not in data:  # one line longer than the block: read on to its end
                    block = f.read(max_bytes)
                    if not block:
                        break
                    data += block
                more = True
    except OSError as e:
        raise Unreadable(f"{path}: {e.strerror or e}") from e
    end = data.rfind(b"\n") + 1  # consume complete lines only
    complete = data if end == len(data) else data[:end]  # no copy in the usual case
    new_offset = start + end
    more = more and start + len(data) < st.st_size
    state = {} if reset or cursor is None else dict(cursor.state)
    if end:
        tail_start = max(0, end - FINGERPRINT_BYTES)
        if end - tail_start >= min(FINGERPRINT_BYTES, new_offset):
            state["_fp"] = fingerprint(complete[tail_start:end])
        else:  # fewer new bytes than the fingerprint window: take the rest from the file
            with open(path, "rb") as f:
                fp_start = max(0, new_offset - FINGERPRINT_BYTES)
                f.seek(fp_start)
                state["_fp"] = fingerprint(f.read(new_offset - fp_start))
    new = FileCursor(
        path=path,
        dev=st.st_dev,
        inode=st.st_ino,
        size=new_offset if more else st.st_size,
        mtime_ns=st.st_mtime_ns,
        offset=new_offset,
        parser_version=parser_version,
        state=state,
    )
    return Chunk(path=path, data=complete, start=start, reset=reset, cursor=new, more=more)


def read_whole(path: str, cursor: FileCursor | None, parser_version: int) -> tuple[bytes, FileCursor] | None:
    """For files that change as a whole (compressed archives): the whole content when it changed."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if not needs_read(path, st, cursor, parser_version):
                return None
            data = f.read()
    except OSError as e:
        raise Unreadable(f"{path}: {e.strerror or e}") from e
    return data, FileCursor(
        path=path,
        dev=st.st_dev,
        inode=st.st_ino,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        offset=st.st_size,
        parser_version=parser_version,
    )
