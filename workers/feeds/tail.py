"""Reading a file that only grows (Asterisk's queue_log, Master.csv) from where we stopped.

The position is a :class:`TailState`: path, inode, a hash of the file's first bytes and
the byte offset after the last whole line read. The reader never commits a position
itself: it hands out :class:`Chunk` objects (whole lines + the state *after* them) and the
caller persists ``chunk.state`` in the same transaction as what it made of the lines, so
a restart neither loses nor re-counts a line.

- whole lines only: a line still being written (no newline yet) waits for the next read;
- rotation (the path now has another inode or other first bytes): the old file is finished
  if it is still reachable (``queue_log.1``, ``queue_log-20261202``, …, found by inode),
  then the new file is read from 0;
- truncation (same file, size below the offset): read again from 0, and say so;
- constant memory: at most ``chunk_bytes`` are held, whatever the size of the file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

HEAD_BYTES = 256  # enough to tell two logs apart (first timestamp + uniqueid)
CHUNK_BYTES = 1 << 20
MAX_LINE_BYTES = 64 * 1024  # a "line" without a newline this long is cut (garbage)


@dataclass(frozen=True)
class TailState:
    """Where reading a file stopped: identity (inode + head hash) and offset."""

    path: str
    inode: int = 0
    head_hash: str = ""
    head_len: int = 0
    offset: int = 0
    line: int = 0  # lines read from this file so far (for "file:line" in errors)


@dataclass
class Chunk:
    """Whole lines read and the state to persist once they are stored."""

    lines: list[tuple[int, bytes]]
    state: TailState
    notes: list[str] = field(default_factory=list)  # rotation / truncation, for the log


def _head(path: Path, size: int) -> tuple[str, int]:
    with path.open("rb") as fh:
        data = fh.read(min(size, HEAD_BYTES))
    return hashlib.sha256(data).hexdigest()[:32], len(data)


def identify(path: Path) -> TailState | None:
    """The identity of the file at ``path`` now (offset 0), or None when it does not exist."""
    try:
        st = path.stat()
        digest, length = _head(path, st.st_size)
    except FileNotFoundError:
        return None
    return TailState(str(path), st.st_ino, digest, length)


def _same_file(path: Path, state: TailState) -> bool:
    """True when ``path`` holds the file ``state`` was reading (inode and first bytes)."""
    try:
        st = path.stat()
        if st.st_ino != state.inode or st.st_size < state.head_len:
            return False
        with path.open("rb") as fh:
            return hashlib.sha256(fh.read(state.head_len)).hexdigest()[:32] == state.head_hash
    except OSError:
        return False


def find_rotated(state: TailState) -> Path | None:
    """The old file after a rotation, if still reachable next to the path (same inode + head)."""
    live = Path(state.path)
    for candidate in sorted(live.parent.glob(live.name + "*")):
        if candidate != live and _same_file(candidate, state):
            return candidate
    return None


def _read_lines(path: Path, state: TailState, chunk_bytes: int) -> Iterator[Chunk]:
    """Whole lines from ``state.offset`` to the end of ``path``, chunk by chunk."""
    with path.open("rb") as fh:
        fh.seek(state.offset)
        carry = b""
        while True:
            block = fh.read(chunk_bytes)
            if not block:
                return
            data = carry + block
            cut = data.rfind(b"\n") + 1
            if cut == 0 and len(data) >= MAX_LINE_BYTES:
                cut = len(data)  # garbage without newlines: hand it over as one (bad) line
            whole, carry = data[:cut], data[cut:]
            if not whole:
                continue
            pieces = whole.split(b"\n")
            if pieces and pieces[-1] == b"":
                pieces.pop()
            lines = [(state.line + i + 1, p) for i, p in enumerate(pieces)]
            state = replace(state, offset=state.offset + len(whole), line=state.line + len(lines))
            yield Chunk(lines, state)


def _fresh(path: Path) -> TailState:
    state = identify(path)
    return state if state is not None else TailState(str(path))


def follow(path: Path | str, state: TailState | None,
           chunk_bytes: int = CHUNK_BYTES) -> Iterator[Chunk]:
    """New whole lines of ``path`` since ``state`` (None: from the start), in chunks.

    Each chunk's ``state`` is where the next read starts once that chunk is stored; a
    rotation yields the rest of the old file first (state of the old file), then an empty
    chunk switching to the new file, then its lines.
    """
    path = Path(path)
    if not path.exists():
        return
    if state is None or state.inode == 0:
        state = _fresh(path)
    if not _same_file(path, state):
        old = find_rotated(state)
        if old is not None:
            yield from _read_lines(old, state, chunk_bytes)
            note = f"{path.name} rotated: finished the old file ({old.name}), reading the new one"
        else:
            size = path.stat().st_size
            same_inode = os.stat(path).st_ino == state.inode
            note = (f"{path.name} truncated or replaced (its first bytes changed, now {size} "
                    f"bytes): reading from 0; what the old one had after byte {state.offset} "
                    "was not read" if same_inode else f"{path.name} rotated and the old file is "
                    f"gone: lines after byte {state.offset} of it were not read")
        state = _fresh(path)
        yield Chunk([], state, [note])
    elif path.stat().st_size < state.offset:
        size = path.stat().st_size
        state = _fresh(path)
        yield Chunk([], state, [f"{path.name} truncated to {size} bytes: reading from 0"])
    elif state.head_len < HEAD_BYTES:
        state = _grow_head(path, state)
    yield from _read_lines(path, state, chunk_bytes)


def _grow_head(path: Path, state: TailState) -> TailState:
    """A file first seen shorter than HEAD_BYTES: widen its identity as it grows."""
    digest, length = _head(path, path.stat().st_size)
    return replace(state, head_hash=digest, head_len=length)
