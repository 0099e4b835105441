"""The SQL side of the call centre: call rows, agent events, CDRs and file offsets.

:func:`save` writes what one chunk of lines changed *and* the reader's position after that
chunk in ONE transaction: after a crash either both are there or neither, so the lines are
read again and, since every write is an upsert keyed by the call's uniqueid (agent events
and CDRs by their own keys), nothing is counted twice. :func:`load_book` rebuilds the
in-memory :class:`CallBook` after a restart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from ambon_core.calls import WAITING, Call, CallBook, CdrRecord, QueueEvent, number_hash
from ambon_core.domain import utcnow
from ambon_core.models import CallAgentEvent, CallCdr, CallFeedOffset, CallRecord
from ambon_core.spool import history_op
from workers.feeds.tail import TailState

AGENT_REPLAY = timedelta(days=7)  # agents logged in longer than this are assumed gone
_CALL_FIELDS = ("queue", "entered_at", "outcome", "caller_hash", "caller_masked", "caller_number",
                "answered_at", "hold_s", "wait_s", "ended_at", "talk_s", "agent", "callback_at")
_BATCH = 500


def _chunks(items: Sequence, size: int = _BATCH) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def load_offset(session: Session, source: str) -> TailState | None:
    row = session.scalar(select(CallFeedOffset).where(CallFeedOffset.source == source))
    if row is None:
        return None
    return TailState(row.path, row.inode, row.head_hash, row.head_len, row.offset, row.line)


def _save_offset(session: Session, source: str, state: TailState) -> None:
    row = session.scalar(select(CallFeedOffset).where(CallFeedOffset.source == source))
    if row is None:
        row = CallFeedOffset(source=source)
        session.add(row)
    row.path, row.inode, row.head_hash, row.head_len = (state.path, state.inode, state.head_hash,
                                                        state.head_len)
    row.offset, row.line, row.updated_at = state.offset, state.line, utcnow()


def _save_calls(session: Session, source: str, calls: Sequence[Call]) -> None:
    """Upsert by uniqueid, as bulk INSERT / UPDATE-by-key statements (a catch-up writes
    millions of rows; the ORM's one object per row would be the bottleneck)."""
    for batch in _chunks(calls):
        known = dict(session.execute(select(CallRecord.call_id, CallRecord.id).where(
            CallRecord.call_id.in_([c.call_id for c in batch]))).tuples().all())
        values = [{name: getattr(c, name) for name in _CALL_FIELDS} | {"call_id": c.call_id}
                  for c in batch]
        new = [v | {"source": source} for v in values if v["call_id"] not in known]
        old = [v | {"id": known[v["call_id"]]} for v in values if v["call_id"] in known]
        if new:
            session.execute(insert(CallRecord), new)
        if old:
            session.execute(update(CallRecord), old)


def _save_agent_events(session: Session, changes: Sequence[tuple[datetime, str, str]]) -> None:
    unique = {(at, agent, event) for at, agent, event in changes}
    for batch in _chunks(sorted(unique)):
        have = {(r.at, r.agent, r.event) for r in session.scalars(select(CallAgentEvent).where(
            CallAgentEvent.agent.in_({a for _, a, _ in batch}),
            CallAgentEvent.at.in_({t for t, _, _ in batch})))}
        session.add_all(CallAgentEvent(at=at, agent=agent, event=event)
                        for at, agent, event in batch if (at, agent, event) not in have)


def cdr_key(rec: CdrRecord) -> str:
    """The uniqueid when the PBX logs it (loguniqueid=yes), else a digest of the row's facts."""
    if rec.uniqueid:
        return rec.uniqueid[:64]
    facts = f"{rec.src}|{rec.dst}|{rec.start.isoformat()}|{rec.end.isoformat()}|{rec.disposition}"
    return hashlib.sha256(facts.encode()).hexdigest()[:64]


def _save_cdrs(session: Session, records: Sequence[CdrRecord], key: bytes) -> None:
    unique = {cdr_key(r): r for r in records}
    for batch in _chunks(list(unique)):
        have = set(session.scalars(select(CallCdr.cdr_key).where(CallCdr.cdr_key.in_(batch))))
        session.add_all(CallCdr(cdr_key=k, start=unique[k].start, answer=unique[k].answer,
                                end=unique[k].end, disposition=unique[k].disposition,
                                billsec=unique[k].billsec, src_hash=number_hash(unique[k].src, key),
                                dst_hash=number_hash(unique[k].dst, key))
                        for k in batch if k not in have)


def save(session: Session, source: str, state: TailState | None, *, calls: Sequence[Call] = (),
         agent_changes: Sequence[tuple[datetime, str, str]] = (),
         cdrs: Sequence[CdrRecord] = (), hash_key: bytes = b"ambon") -> None:
    """Store one chunk's results and the position after it (if any), in one transaction."""
    _save_calls(session, source, calls)
    _save_agent_events(session, agent_changes)
    _save_cdrs(session, cdrs, hash_key)
    if state is not None:
        _save_offset(session, source, state)
    session.commit()


def _call(row: CallRecord) -> Call:
    call = Call(row.call_id, row.queue, row.entered_at, dirty=False)
    for name in _CALL_FIELDS:
        setattr(call, name, getattr(row, name))
    return call


def load_book(session: Session, book: CallBook, now: datetime) -> CallBook:
    """Fill ``book`` with what its figures need from SQL (the last ``book.keep`` and the waiting)."""
    cut = now - book.keep
    for row in session.scalars(select(CallRecord).where(or_(
            CallRecord.entered_at >= cut, CallRecord.ended_at >= cut, CallRecord.outcome == WAITING))):
        book.calls[row.call_id] = _call(row)
    events = session.scalars(select(CallAgentEvent).where(CallAgentEvent.at >= now - AGENT_REPLAY)
                             .order_by(CallAgentEvent.at, CallAgentEvent.id))
    for ev in events:
        book.apply(QueueEvent(at=ev.at, call_id="NONE", queue="NONE", agent=ev.agent, event=ev.event))
    book.agent_changes.clear()
    book.last_at, book.clock_jumps = None, 0  # replayed agent events are not the PBX's clock
    book.reindex()
    for call in book.calls.values():
        if call.outcome == "answered" and call.answered_at and call.agent:
            book.answering.append((call.answered_at, call.agent))
    return book


# ---- the same upserts as a history operation (spooled while SQL is away) -----------------
def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def call_payload(source: str, calls: Sequence[Call]) -> dict:
    """Changed calls as a JSON-able payload for :func:`_call_records` (the feed-registry path)."""
    return {"source": source, "calls": [
        {"call_id": c.call_id, **{n: getattr(c, n) for n in _CALL_FIELDS}} for c in calls]}


@history_op("call_records")
def _call_records(session: Session, payload: dict) -> None:
    """Upsert calls by uniqueid: replaying the spool, or a re-read log, counts nothing twice."""
    calls = []
    for item in payload["calls"]:
        call = Call(item["call_id"], item["queue"], _when(item["entered_at"]), dirty=False)
        for name in _CALL_FIELDS:
            value = item.get(name)
            setattr(call, name, _when(value) if name.endswith("_at") else value)
        calls.append(call)
    _save_calls(session, payload["source"], calls)
