"""The one door workers use to write the SQL record, and the disk spool behind it.

A history write is a named *operation* with a JSON payload (``history_op`` registers the
function that applies it to a session). :class:`HistoryWriter` applies it at once; when
the database cannot be reached it appends the operation to an append-only JSONL spool
(``data/runtime/spool/<worker>/``, capped in bytes) and the worker carries on publishing
live state to Redis. When the database answers again the spool is replayed in order,
in small transactions, before any new write. Every operation is idempotent (it checks
what is already on record), so a replay interrupted between commit and bookkeeping
writes nothing twice.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

Op = Callable[[Session, dict[str, Any]], Any]
OPS: dict[str, Op] = {}
SEGMENT_BYTES = 4 * 1024 * 1024
REPLAY_BATCH = 100
# the database is away (network, server down, file gone), as opposed to a bug in a write
OUTAGE = (OperationalError, DisconnectionError, PoolTimeout)


def spool_root() -> Path:
    """Where workers spool history (setting ``SPOOL_DIR``), read afresh for each writer."""
    from ambon_core.settings import Settings

    return Settings().spool_dir


def spool_max_bytes() -> int:
    """Cap of one worker's spool (setting ``SPOOL_MAX_MB``, default 256 MB: days of history)."""
    from ambon_core.settings import Settings

    return int(Settings().spool_max_mb * 1024 * 1024)


def history_op(name: str) -> Callable[[Op], Op]:
    """Register ``func(session, payload)`` as the idempotent history operation ``name``."""

    def register(func: Op) -> Op:
        OPS[name] = func
        return func

    return register


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot be reached (spool), not that a write is wrong."""
    return isinstance(exc, OUTAGE) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


@dataclass(frozen=True)
class Outcome:
    """``written``: on record now (``result`` is the operation's); else spooled for later."""

    written: bool
    result: Any = None


class HistoryWriter:
    """Writes history operations to SQL, spooling them on disk while SQL is unreachable."""

    def __init__(self, sessions: sessionmaker[Session], directory: Path,
                 max_bytes: int = 256 * 1024 * 1024, retry_s: float = 5.0):
        self.sessions = sessions
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.retry_s = retry_s
        self.failed_at: float | None = None
        self.dropped = 0
        self.pending = sum(self._count(seg) for seg in self._segments())
        if self.pending:
            log.warning("history spool %s: %d write(s) waiting for the database", self.dir,
                        self.pending)

    # ---- public -------------------------------------------------------------------------
    def write(self, op: str, payload: dict[str, Any]) -> Outcome:
        """Apply ``op`` now, or spool it (behind anything already spooled, to keep order)."""
        if op not in OPS:
            raise KeyError(f"unknown history operation {op!r}")
        if self.pending and not self.drain():
            self._append(op, payload)
            return Outcome(False)
        try:
            with self.sessions() as session:
                result = OPS[op](session, payload)
                session.commit()
            self.failed_at = None
            return Outcome(True, result)
        except Exception as exc:
            if not is_outage(exc):
                raise
            self._outage(exc)
            self._append(op, payload)
            return Outcome(False)

    def drain(self, force: bool = False) -> bool:
        """Replay the spool in order; True when it is empty. Waits ``retry_s`` after a failure."""
        if not self.pending:
            return True
        if not force and self.failed_at is not None and time.monotonic() - self.failed_at < self.retry_s:
            return False
        try:
            with self._locked():
                for seg in self._segments():
                    self._replay(seg)
        except Exception as exc:
            if not is_outage(exc):
                raise
            self._outage(exc)
            return False
        self.failed_at = None
        log.info("history spool %s: replayed, the record is complete", self.dir)
        return True

    # ---- spool files ----------------------------------------------------------------------
    def _segments(self) -> list[Path]:
        return sorted(self.dir.glob("segment-*.jsonl"))

    @staticmethod
    def _count(seg: Path) -> int:
        done = _read_offset(seg)
        with seg.open("rb") as fh:
            fh.seek(done)
            return sum(1 for line in fh if line.endswith(b"\n"))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with (self.dir / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _append(self, op: str, payload: dict[str, Any]) -> None:
        line = json.dumps({"op": op, "at": time.time(), "payload": payload}, default=str,
                          separators=(",", ":")).encode() + b"\n"
        with self._locked():
            segs = self._segments()
            if not segs or segs[-1].stat().st_size + len(line) > SEGMENT_BYTES:
                number = int(segs[-1].stem.split("-")[1]) + 1 if segs else 1
                segs.append(self.dir / f"segment-{number:08d}.jsonl")
            with segs[-1].open("ab") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())  # acknowledged means on disk
            self.pending += 1
            self._enforce_cap(segs)

    def _enforce_cap(self, segs: list[Path]) -> None:
        """Over the cap, the oldest segment goes (loudly): the disk must not fill up."""
        while len(segs) > 1 and sum(s.stat().st_size for s in segs) > self.max_bytes:
            oldest = segs.pop(0)
            lost = self._count(oldest)
            oldest.unlink()
            _offset_path(oldest).unlink(missing_ok=True)
            self.pending -= lost
            self.dropped += lost
            log.error("history spool %s over %d bytes: dropped %d oldest write(s)", self.dir,
                      self.max_bytes, lost)

    def _replay(self, seg: Path) -> None:
        offset = _read_offset(seg)
        with seg.open("rb") as fh:
            fh.seek(offset)
            while True:
                batch, end = [], offset
                for line in fh:
                    if not line.endswith(b"\n"):
                        break  # a torn last line (crash mid-append): never acknowledged
                    batch.append(line)
                    end += len(line)
                    if len(batch) >= REPLAY_BATCH:
                        break
                if not batch:
                    break
                self._apply_batch(batch)
                offset = end
                _write_offset(seg, offset)
                self.pending -= len(batch)
        seg.unlink()
        _offset_path(seg).unlink(missing_ok=True)

    def _apply_batch(self, lines: list[bytes]) -> None:
        """One transaction per batch; a batch with a bad entry is redone entry by entry."""
        entries = [json.loads(line) for line in lines]
        try:
            self._apply(entries)
        except Exception as exc:
            if is_outage(exc):
                raise
            for entry, line in zip(entries, lines, strict=True):
                try:
                    self._apply([entry])
                except Exception as one:
                    if is_outage(one):
                        raise
                    # one unreadable entry must not block the record behind it
                    log.error("history spool %s: %s entry rejected (%s); kept in rejected.jsonl",
                              self.dir, entry.get("op"), one)
                    with (self.dir / "rejected.jsonl").open("ab") as out:
                        out.write(line)

    def _apply(self, entries: list[dict[str, Any]]) -> None:
        with self.sessions() as session:
            for entry in entries:
                OPS[entry["op"]](session, entry["payload"])
            session.commit()

    def _outage(self, exc: BaseException) -> None:
        if self.failed_at is None:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
            log.warning("history: the database is unreachable (%s); spooling to %s", reason,
                        self.dir)
        self.failed_at = time.monotonic()


def _offset_path(seg: Path) -> Path:
    return seg.with_suffix(".offset")


def _read_offset(seg: Path) -> int:
    try:
        return int(_offset_path(seg).read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def _write_offset(seg: Path, offset: int) -> None:
    tmp = _offset_path(seg).with_suffix(".tmp")
    tmp.write_text(str(offset))
    os.replace(tmp, _offset_path(seg))


Recorder = Session | HistoryWriter


def record(target: Recorder, op: str, payload: dict[str, Any]) -> Outcome:
    """Write ``op`` through a HistoryWriter (may spool), or on a plain Session (commits now)."""
    if isinstance(target, HistoryWriter):
        return target.write(op, payload)
    result = OPS[op](target, payload)
    target.commit()
    return Outcome(True, result)
