"""The 112 call centre in figures: calls waiting, answered, abandoned, time to answer.

Pure (no I/O): a :class:`CallBook` is fed queue events and CDR records (as parsed from
Asterisk's queue_log / Master.csv, or a generic call list) and answers
:func:`call_figures` and :func:`call_alerts` for a given clock. Waits come from the
PBX's own counters (CONNECT holdtime, ABANDON waittime), not from differences of line
timestamps, so a jump of the PBX clock moves a call to another hour but never changes
how long anybody waited; such jumps are counted.

A call is keyed by its Asterisk uniqueid; applying an event twice changes nothing, so a
line read twice (a crash before its offset was saved) is never counted twice.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

ANSWERED, WAITING, LOST = "answered", "waiting", "lost"
# Left the queue without an agent: the caller hung up, the queue timed out / emptied / a key.
UNANSWERED = {"ABANDON": "abandoned", "EXITWITHTIMEOUT": "timeout", "EXITEMPTY": "empty",
              "EXITWITHKEY": "key"}
COMPLETED = {"COMPLETEAGENT", "COMPLETECALLER", "TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"}
LOGIN = {"AGENTLOGIN", "AGENTCALLBACKLOGIN", "ADDMEMBER"}
LOGOFF = {"AGENTLOGOFF", "AGENTCALLBACKLOGOFF", "REMOVEMEMBER"}
PAUSES = {"PAUSE": True, "PAUSEALL": True, "UNPAUSE": False, "UNPAUSEALL": False}
CLOCK_TOLERANCE_S = 2.0  # Asterisk threads write a second or two out of order


@dataclass(frozen=True, slots=True)
class QueueEvent:
    """One queue_log event. ``caller`` is personal data: the book hashes and masks it."""

    at: datetime
    call_id: str
    queue: str
    agent: str
    event: str
    line: int = 0
    hold_s: int | None = None
    talk_s: int | None = None
    ring_s: float | None = None
    wait_s: int | None = None
    position: int | None = None
    orig_position: int | None = None
    caller: str | None = None
    key: str | None = None
    member_uniqueid: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class CdrRecord:
    """One CDR (Master.csv row) without the caller's name; src/dst are personal data."""

    src: str
    dst: str
    dcontext: str
    start: datetime
    answer: datetime | None
    end: datetime
    duration_s: int
    billsec: int
    disposition: str
    uniqueid: str
    line: int = 0
    accountcode: str = ""
    lastapp: str = ""


@dataclass
class Call:
    """One call through the queue; ``caller_number`` is kept only while a call-back is owed."""

    call_id: str
    queue: str
    entered_at: datetime
    outcome: str = WAITING
    caller_hash: str | None = None
    caller_masked: str | None = None
    caller_number: str | None = None
    answered_at: datetime | None = None
    hold_s: float | None = None  # time to answer
    wait_s: float | None = None  # time waited before leaving unanswered
    ended_at: datetime | None = None
    talk_s: int | None = None
    agent: str | None = None
    callback_at: datetime | None = None
    dirty: bool = True

    @property
    def unanswered(self) -> bool:
        return self.outcome in UNANSWERED.values()

    @property
    def decided_at(self) -> datetime | None:
        """When the call was answered or left unanswered."""
        return self.answered_at if self.outcome == ANSWERED else self.ended_at


@dataclass
class AgentSession:
    agent: str
    start: datetime
    end: datetime | None = None
    paused: bool = False


def mask_phone(number: str | None) -> str:
    """A caller's number as a screen may show it: the operator or area prefix only.

    '081234567890' -> '0812-xxxx-xxxx', '0911-345678' (Ambon landline) -> '0911-xxxxxx',
    '+6281234567890' -> '0812-xxxx-xxxx'; a short extension becomes all x.
    """
    digits = re.sub(r"\D", "", number or "")
    if digits.startswith("62") and len(digits) >= 10:
        digits = "0" + digits[2:]
    if not digits:
        return "-"
    if len(digits) <= 4:
        return "x" * len(digits)
    rest = "x" * (len(digits) - 4)
    if digits.startswith("08") and len(rest) > 4:  # mobiles are read in groups of four
        rest = rest[:4] + "-" + rest[4:]
    return f"{digits[:4]}-{rest}"


def normalise_number(raw: str | None) -> str | None:
    """Digits of a phone number in national form (+62 / 62 -> 0); None when withheld."""
    digits = re.sub(r"\D", "", raw or "")
    if len(digits) < 3:
        return None
    if digits.startswith("62") and len(digits) >= 10:
        digits = "0" + digits[2:]
    return digits


def number_hash(number: str | None, key: bytes) -> str | None:
    """A keyed hash of the number: calls and call-backs are matched without storing it."""
    normal = normalise_number(number)
    return None if normal is None else hmac.new(key, normal.encode(), hashlib.sha256).hexdigest()[:24]


@dataclass
class CallBook:
    """Calls and agents of the last day and a bit, as events describe them."""

    hash_key: bytes = b"ambon"
    keep: timedelta = timedelta(hours=26)
    calls: dict[str, Call] = field(default_factory=dict)
    sessions: list[AgentSession] = field(default_factory=list)
    answering: list[tuple[datetime, str]] = field(default_factory=list)  # (connect, agent)
    ring_no_answer: list[datetime] = field(default_factory=list)
    last_at: datetime | None = None
    clock_jumps: int = 0
    agent_changes: list[tuple[datetime, str, str]] = field(default_factory=list)
    by_caller: dict[str, list[str]] = field(default_factory=dict)  # caller hash -> call ids

    # ---- queue events -----------------------------------------------------------
    def apply(self, ev: QueueEvent) -> str | None:
        """Apply one event; returns a note when the line went back in time (a clock jump)."""
        note = None
        if self.last_at is not None and ev.at < self.last_at - timedelta(seconds=CLOCK_TOLERANCE_S):
            self.clock_jumps += 1
            note = (f"clock jump: line {ev.line} is {(self.last_at - ev.at).total_seconds():.0f} s "
                    "older than the line before it")
        self.last_at = ev.at
        if ev.event == "ENTERQUEUE":
            self._enter(ev)
        elif ev.event == "CONNECT":
            self._connect(ev)
        elif ev.event in COMPLETED:
            self._complete(ev)
        elif ev.event in UNANSWERED:
            self._leave(ev)
        elif ev.event == "QUEUESTART":
            self._restart(ev.at)
        elif ev.event == "RINGNOANSWER":
            self.ring_no_answer.append(ev.at)
        elif ev.event in LOGIN or ev.event in LOGOFF or ev.event in PAUSES:
            self._agent(ev)
        return note

    def _enter(self, ev: QueueEvent) -> None:
        call = self.calls.get(ev.call_id)
        if call is not None and (not call.unanswered or call.ended_at is None
                                 or ev.at < call.ended_at or ev.at <= call.entered_at):
            return  # the same line read again, or a later queue of an answered call
        if call is None:
            number = normalise_number(ev.caller)
            call = Call(ev.call_id, ev.queue, ev.at, caller_number=number,
                        caller_hash=number_hash(number, self.hash_key),
                        caller_masked=mask_phone(number) if number else None)
            self.calls[ev.call_id] = call
            if call.caller_hash:
                self.by_caller.setdefault(call.caller_hash, []).append(call.call_id)
            return
        call.outcome, call.ended_at, call.wait_s, call.dirty = WAITING, None, None, True

    def _call_for(self, ev: QueueEvent, waited_s: float | None) -> Call:
        """The call an event belongs to; one whose ENTERQUEUE was never read starts here."""
        call = self.calls.get(ev.call_id)
        if call is None:
            entered = ev.at - timedelta(seconds=waited_s or 0)
            call = self.calls[ev.call_id] = Call(ev.call_id, ev.queue, entered)
        call.dirty = True
        return call

    def _connect(self, ev: QueueEvent) -> None:
        call = self._call_for(ev, ev.hold_s)
        if call.outcome == ANSWERED:
            return
        call.outcome, call.answered_at, call.agent = ANSWERED, ev.at, ev.agent
        call.hold_s = ev.hold_s if ev.hold_s is not None else (ev.at - call.entered_at).total_seconds()
        call.ended_at, call.wait_s = None, None
        self.answering.append((ev.at, ev.agent))
        self._reached(call.caller_hash, ev.at)
        call.caller_number = None  # answered: no call-back owed, the number is not kept

    def _complete(self, ev: QueueEvent) -> None:
        call = self._call_for(ev, (ev.hold_s or 0) + (ev.talk_s or 0))
        if call.outcome != ANSWERED:
            call.outcome, call.agent, call.hold_s = ANSWERED, ev.agent, ev.hold_s
            call.answered_at = ev.at - timedelta(seconds=ev.talk_s or 0)
            call.caller_number = None
        call.ended_at, call.talk_s = ev.at, ev.talk_s

    def _leave(self, ev: QueueEvent) -> None:
        call = self._call_for(ev, ev.wait_s)
        if call.outcome == ANSWERED:
            return
        call.outcome, call.ended_at = UNANSWERED[ev.event], ev.at
        call.wait_s = ev.wait_s if ev.wait_s is not None else (ev.at - call.entered_at).total_seconds()

    def _restart(self, at: datetime) -> None:
        """QUEUESTART: Asterisk (re)started, nobody is in a queue any more."""
        for call in self.calls.values():
            if call.outcome == WAITING:
                call.outcome, call.ended_at, call.dirty = LOST, at, True

    def _agent(self, ev: QueueEvent) -> None:
        open_ = next((s for s in reversed(self.sessions) if s.agent == ev.agent and s.end is None), None)
        if ev.event in LOGIN and open_ is None:
            self.sessions.append(AgentSession(ev.agent, ev.at))
        elif ev.event in LOGOFF and open_ is not None:
            open_.end = ev.at
        elif ev.event in PAUSES and open_ is not None:
            open_.paused = PAUSES[ev.event]
        self.agent_changes.append((ev.at, ev.agent, ev.event))

    # ---- CDR: call-backs ----------------------------------------------------------
    def apply_cdr(self, rec: CdrRecord) -> None:
        """A call to the number (a call-back) or an answered call from it reaches the caller."""
        self._reached(number_hash(rec.dst, self.hash_key), rec.start)
        if rec.disposition == "ANSWERED":
            self._reached(number_hash(rec.src, self.hash_key), rec.start)

    def _reached(self, caller_hash: str | None, at: datetime) -> None:
        if caller_hash is None:
            return
        for call_id in self.by_caller.get(caller_hash, ()):
            call = self.calls.get(call_id)
            if (call is not None and call.unanswered and call.callback_at is None
                    and call.ended_at is not None and call.ended_at <= at):
                call.callback_at, call.caller_number, call.dirty = at, None, True

    # ---- housekeeping ---------------------------------------------------------------
    def prune(self, now: datetime) -> None:
        """Forget what no figure needs any more (it is in SQL); memory stays bounded."""
        cut = now - self.keep
        for call in self.calls.values():
            if call.outcome == WAITING and call.entered_at < cut:  # its exit line never came
                call.outcome, call.ended_at, call.dirty = LOST, call.entered_at, True
        self.calls = {k: c for k, c in self.calls.items()
                      if c.dirty or (c.decided_at or c.ended_at or c.entered_at) >= cut}
        self.reindex()
        self.sessions = [s for s in self.sessions if s.end is None or s.end >= cut]
        self.answering = [a for a in self.answering if a[0] >= cut]
        self.ring_no_answer = [t for t in self.ring_no_answer if t >= cut]

    def reindex(self) -> None:
        """Rebuild the caller index (after loading or pruning)."""
        self.by_caller = {}
        for call in self.calls.values():
            if call.caller_hash:
                self.by_caller.setdefault(call.caller_hash, []).append(call.call_id)

    def take_dirty(self) -> list[Call]:
        """Calls changed since the last call of this (to be stored)."""
        dirty = [c for c in self.calls.values() if c.dirty]
        for call in dirty:
            call.dirty = False
        return dirty

    def take_agent_changes(self) -> list[tuple[datetime, str, str]]:
        changes, self.agent_changes = self.agent_changes, []
        return changes


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
