"""From the PBX's growing files to the 112 figures in Redis: read, parse, count, store.

One :class:`CallsIngest` follows a set of :class:`CallSource` files. A poll reads each
file from its saved position chunk by chunk (constant memory), parses the whole lines,
feeds the call book, then saves the changed calls *with* the new position (one
transaction, see :mod:`workers.feeds.calls_store`). Rejected lines go to the dead letters
with ``file:line``, field and reason (numbers masked); the rest is read. If storing fails
the book is rebuilt from SQL before the next try, so nothing is counted twice. The file is
its own spool: while the database is away the position simply does not move.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from ambon_core.alerts import sync_alerts
from ambon_core.call_figures import CallFigures, CallRules, call_alerts, call_figures
from ambon_core.calls import CallBook, CdrRecord, QueueEvent
from ambon_core.domain import AlertKind, utcnow
from ambon_core.store import Store
from workers.feeds import asterisk, calls_store
from workers.feeds.common import ParseResult
from workers.feeds.tail import Chunk, follow

log = logging.getLogger(__name__)
CALL_ALERT_KINDS = (AlertKind.CALL_WAITING, AlertKind.CALL_NOT_CALLED_BACK,
                    AlertKind.CALL_ABANDON_RATE)
Kind = Literal["queue_log", "cdr", "csv"]


@dataclass(frozen=True)
class CallSource:
    """One append-only file: Asterisk queue_log, Master.csv, or a generic CSV (with mapping)."""

    name: str
    path: Path
    kind: Kind
    mapping: dict[str, str] = field(default_factory=dict)


@dataclass
class PollReport:
    lines: int = 0
    records: int = 0
    rejects: int = 0
    notes: list[str] = field(default_factory=list)


def _header(path: Path) -> list[str]:
    with path.open("rb") as fh:
        first = fh.readline().decode("utf-8", "replace")
    return next(csv.reader(io.StringIO(first)), [])


def parse_chunk(source: CallSource, chunk: Chunk, pbx_zone: ZoneInfo) -> ParseResult:
    """The records of one chunk of whole lines (pure but for a CSV's header line)."""
    if source.kind == "queue_log":
        return asterisk.parse_queue_log(chunk.lines)
    if source.kind == "cdr":
        return asterisk.parse_cdr_csv(chunk.lines, pbx_zone)
    lines = [(n, raw) for n, raw in chunk.lines if n > 1]  # line 1 is the header
    if not lines:
        return ParseResult()
    body = b"\n".join(raw for _, raw in lines)
    return asterisk.parse_generic_csv(body, source.mapping, pbx_zone, _header(source.path),
                                      first_line=lines[0][0])


class CallsIngest:
    """Follows the call-centre files and keeps the figures and alerts in Redis current."""

    def __init__(self, store: Store, sessions: sessionmaker[Session], rules: CallRules,
                 sources: Iterable[CallSource], *, hash_key: bytes = b"ambon",
                 pbx_zone: ZoneInfo | None = None, chunk_bytes: int = 1 << 20,
                 clock: Callable[[], datetime] | None = None):
        self.store, self.sessions, self.rules = store, sessions, rules
        self.sources = list(sources)
        self.hash_key, self.chunk_bytes = hash_key, chunk_bytes
        self.pbx_zone = pbx_zone or rules.tz
        self.clock = clock
        self._book: CallBook | None = None

    def now(self) -> datetime:
        return self.clock() if self.clock else utcnow()

    @property
    def book(self) -> CallBook:
        if self._book is None:
            with self.sessions() as session:
                self._book = calls_store.load_book(session, CallBook(self.hash_key), self.now())
        return self._book

    def poll(self) -> PollReport:
        """Read every source up to its end, store, publish the figures."""
        report = PollReport()
        if not self.sources:  # no 112 centre configured: the pages say "no data", not zeros
            return report
        try:
            for source in self.sources:
                self._follow(source, report)
        except Exception:
            self._book = None  # what was applied but not stored is forgotten, re-read next time
            raise
        self.publish()
        return report

    def _follow(self, source: CallSource, report: PollReport) -> None:
        with self.sessions() as session:
            state = calls_store.load_offset(session, source.name)
        for chunk in follow(source.path, state, self.chunk_bytes):
            for note in chunk.notes:
                log.warning("calls %s: %s", source.name, note)
                report.notes.append(note)
            result = parse_chunk(source, chunk, self.pbx_zone)
            cdrs = self._apply(result)
            self._dead_letter(source, result)
            with self.sessions() as session:
                calls_store.save(session, source.name, chunk.state, calls=self.book.take_dirty(),
                                 agent_changes=self.book.take_agent_changes(), cdrs=cdrs,
                                 hash_key=self.hash_key)
            if self.book.last_at is not None:  # catching up a long file: keep memory bounded
                self.book.prune(max(self.book.last_at, self.now() - self.book.keep))
            report.lines += len(chunk.lines)
            report.records += len(result.records)
            report.rejects += len(result.rejects)

    def _apply(self, result: ParseResult) -> list[CdrRecord]:
        cdrs = []
        for record in result.records:
            if isinstance(record, QueueEvent):
                note = self.book.apply(record)
                if note:
                    result.warnings.append(note)
            else:
                self.book.apply_cdr(record)
                cdrs.append(record)
        return cdrs

    def _dead_letter(self, source: CallSource, result: ParseResult) -> None:
        where = source.path.name
        for rej in result.rejects:  # a reason quotes the bad value: it may be a number
            self.store.dead_letter(source.name, rej.record_text,
                                   f"{where}:{rej.record_id.removeprefix('line ')}: {rej.field}: "
                                   f"{asterisk.mask_digits(rej.reason)}")
        for note in result.warnings:  # clock jumps: the line is read, and the jump is on record
            self.store.dead_letter(source.name, "", f"{where}: {note}")
        if result.rejects:
            first = result.rejects[0]
            log.warning("calls %s: %d line(s) rejected, e.g. %s:%s field %s: %s", source.name,
                        len(result.rejects), where, first.record_id, first.field,
                        asterisk.mask_digits(first.reason))

    def figures(self) -> CallFigures:
        now = self.now()
        self.book.prune(now)
        return call_figures(self.book, now, self.rules)

    def publish(self) -> CallFigures:
        """Figures to Redis and the call alerts raised/cleared (the clock moves them too)."""
        figures = self.figures()
        lost = self.book.take_dirty()  # calls whose exit line never came, closed by the clock
        if lost:
            with self.sessions() as session:
                calls_store.save(session, "clock", None, calls=lost)
        self.store.put_call_figures(figures)
        wanted = call_alerts(self.book, figures, figures.updated_at, self.rules)
        with self.sessions() as session:
            sync_alerts(self.store, session, CALL_ALERT_KINDS, wanted)
        return figures
