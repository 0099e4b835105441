"""The live figures and alerts of the 112 call centre, from a :class:`CallBook` and a clock.

Pure. "Today" is the city's day (WIT); an hour or a shift holds the calls that *entered*
the queue in it; the abandoned share of the last hour is over calls *decided* (answered
or left unanswered) in it. Time to answer is the PBX's hold time of answered calls.
Numbers appear only masked (``0812-xxxx-xxxx``), in the call-back list; never in alerts.
"""

from __future__ import annotations

import hashlib
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from ambon_core.calls import ANSWERED, WAITING, Call, CallBook
from ambon_core.domain import Alert, AlertKind, utcnow


@dataclass(frozen=True)
class CallRules:
    """Thresholds of the call centre (from settings: calls_*)."""

    tz: ZoneInfo
    wait_alert_s: float = 20.0
    callback_min: float = 10.0
    abandon_share_max: float = 0.05
    max_wait_s: float = 3600.0  # a "waiting" call older than this lost its exit line
    shifts: tuple[tuple[int, int], ...] = ((7, 15), (15, 23), (23, 7))
    opd: str = "kominfo"


class HourFigures(BaseModel):
    hour: int
    calls: int = 0
    answered: int = 0
    abandoned: int = 0
    agents: int | None = None  # None: the hour has not begun


class ShiftFigures(BaseModel):
    shift: str
    calls: int = 0
    answered: int = 0
    abandoned: int = 0
    answer_median_s: float | None = None


class CallbackOwed(BaseModel):
    """An unanswered call nobody has called back yet (number masked)."""

    masked: str
    left_at: datetime
    waited_s: float


class CallFigures(BaseModel):
    """What the 112 panel, the overview tile and the wall show (the wall: counts only)."""

    updated_at: datetime = Field(default_factory=utcnow)
    day: str = ""
    waiting_now: int = 0
    longest_wait_now_s: float | None = None
    calls_today: int = 0
    answered_today: int = 0
    abandoned_today: int = 0
    abandoned_by_reason: dict[str, int] = Field(default_factory=dict)
    lost_today: int = 0
    answered_share: float | None = None
    answer_median_s: float | None = None
    answer_p90_s: float | None = None
    abandon_wait_median_s: float | None = None
    abandon_wait_p90_s: float | None = None
    agents_now: int = 0
    agents_paused_now: int = 0
    ring_no_answer_today: int = 0
    last_hour_decided: int = 0
    last_hour_abandoned: int = 0
    last_hour_abandoned_share: float | None = None
    callbacks_owed: int = 0
    callbacks_late: int = 0
    callback_list: list[CallbackOwed] = Field(default_factory=list)
    hourly: list[HourFigures] = Field(default_factory=list)
    shifts: list[ShiftFigures] = Field(default_factory=list)
    clock_jumps: int = 0
    last_line_at: datetime | None = None

    def counts_only(self) -> CallFigures:
        """The figures for a public screen: no call-back list (masked or not)."""
        return self.model_copy(update={"callback_list": []})


def percentile(values: list[float], pct: int) -> float | None:
    """The ``pct``-th percentile, inclusive method (statistics.quantiles, n=100)."""
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _day_start(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _waiting(book: CallBook, now: datetime, rules: CallRules) -> list[Call]:
    horizon = now - timedelta(seconds=rules.max_wait_s)
    return [c for c in book.calls.values() if c.outcome == WAITING and c.entered_at >= horizon]


def _agents_by_hour(book: CallBook, start: datetime, now: datetime) -> list[int | None]:
    """Distinct agents logged in (or answering) during each hour of the day from ``start``
    (None for the hours after ``now``)."""
    hours: list[set[str]] = [set() for _ in range(24)]
    end_of_day = min(start + timedelta(hours=24), now)
    for s in book.sessions:
        first = max(s.start, start)
        last = min(s.end or end_of_day, end_of_day)
        h = int((first - start).total_seconds() // 3600)
        while first < last and h < 24:
            hours[h].add(s.agent)
            h, first = h + 1, start + timedelta(hours=h + 1)
    for at, agent in book.answering:
        h = int((at - start).total_seconds() // 3600)
        if 0 <= h < 24:
            hours[h].add(agent)
    return [len(agents) if start + timedelta(hours=h) <= now else None
            for h, agents in enumerate(hours)]


def _hourly(today: list[Call], book: CallBook, start: datetime, now: datetime,
            tz: ZoneInfo) -> list[HourFigures]:
    rows = [HourFigures(hour=h) for h in range(24)]
    for call in today:
        row = rows[call.entered_at.astimezone(tz).hour]
        row.calls += 1
        row.answered += call.outcome == ANSWERED
        row.abandoned += call.unanswered
    for row, agents in zip(rows, _agents_by_hour(book, start, now), strict=True):
        row.agents = agents
    return rows


def _shifts(today: list[Call], rules: CallRules) -> list[ShiftFigures]:
    out = []
    for first, last in rules.shifts:
        hours = set(range(first, last)) if first < last else set(range(first, 24)) | set(range(last))
        calls = [c for c in today if c.entered_at.astimezone(rules.tz).hour in hours]
        answered = [c for c in calls if c.outcome == ANSWERED]
        out.append(ShiftFigures(shift=f"{first:02d}-{last:02d}", calls=len(calls),
                                answered=len(answered), abandoned=sum(c.unanswered for c in calls),
                                answer_median_s=median([c.hold_s or 0.0 for c in answered])))
    return out


def _owed(today: list[Call], now: datetime, rules: CallRules) -> tuple[list[Call], list[Call]]:
    """(owed, late): unanswered calls with a number not yet called back; late = past the limit."""
    owed = [c for c in today if c.unanswered and c.caller_hash and c.callback_at is None]
    late = [c for c in owed if c.ended_at is not None
            and now - c.ended_at > timedelta(minutes=rules.callback_min)]
    return owed, late


def call_figures(book: CallBook, now: datetime, rules: CallRules) -> CallFigures:
    """All live figures of the centre at ``now``."""
    start = _day_start(now, rules.tz)
    today = [c for c in book.calls.values() if c.entered_at >= start]
    answered = [c for c in today if c.outcome == ANSWERED]
    left = [c for c in today if c.unanswered]
    waiting = _waiting(book, now, rules)
    hour_ago = now - timedelta(hours=1)
    decided = [c for c in book.calls.values() if c.decided_at and c.decided_at > hour_ago
               and c.outcome != "lost" and (c.outcome == ANSWERED or c.unanswered)]
    hour_left = sum(c.unanswered for c in decided)
    owed, late = _owed(today, now, rules)
    reasons: dict[str, int] = {}
    for call in left:
        reasons[call.outcome] = reasons.get(call.outcome, 0) + 1
    open_sessions = [s for s in book.sessions if s.end is None]
    holds = [c.hold_s or 0.0 for c in answered]
    waits = [c.wait_s or 0.0 for c in left]
    return CallFigures(
        updated_at=now, day=start.date().isoformat(), waiting_now=len(waiting),
        longest_wait_now_s=max(((now - c.entered_at).total_seconds() for c in waiting), default=None),
        calls_today=len(today), answered_today=len(answered), abandoned_today=len(left),
        abandoned_by_reason=reasons, lost_today=sum(c.outcome == "lost" for c in today),
        answered_share=len(answered) / (len(answered) + len(left)) if answered or left else None,
        answer_median_s=median(holds), answer_p90_s=percentile(holds, 90),
        abandon_wait_median_s=median(waits), abandon_wait_p90_s=percentile(waits, 90),
        agents_now=len({s.agent for s in open_sessions}),
        agents_paused_now=len({s.agent for s in open_sessions if s.paused}),
        ring_no_answer_today=sum(t >= start for t in book.ring_no_answer),
        last_hour_decided=len(decided), last_hour_abandoned=hour_left,
        last_hour_abandoned_share=hour_left / len(decided) if decided else None,
        callbacks_owed=len(owed), callbacks_late=len(late),
        callback_list=[CallbackOwed(masked=c.caller_masked or "-", left_at=c.ended_at or now,
                                    waited_s=c.wait_s or 0.0)
                       for c in sorted(late, key=lambda c: c.ended_at or now)[:20]],
        hourly=_hourly(today, book, start, now, rules.tz), shifts=_shifts(today, rules),
        clock_jumps=book.clock_jumps, last_line_at=book.last_at)


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def call_alerts(book: CallBook, figures: CallFigures, now: datetime, rules: CallRules) -> list[Alert]:
    """Calls waiting too long (per queue), call-backs overdue, too many abandoned last hour."""
    alerts = []
    by_queue: dict[str, list[float]] = {}
    for call in _waiting(book, now, rules):
        waited = (now - call.entered_at).total_seconds()
        if waited > rules.wait_alert_s:
            by_queue.setdefault(call.queue, []).append(waited)
    for queue, waits in by_queue.items():
        alerts.append(Alert(alert_id=f"call-wait-{_short(queue)}", kind=AlertKind.CALL_WAITING,
                            entity_id="panggilan-112", opd=rules.opd,
                            severity=3 if max(waits) > 3 * rules.wait_alert_s else 2,
                            params={"waiting": len(waits), "longest_s": round(max(waits)),
                                    "limit_s": round(rules.wait_alert_s)}))
    start = _day_start(now, rules.tz)
    _, late = _owed([c for c in book.calls.values() if c.entered_at >= start], now, rules)
    for call in late:
        alerts.append(Alert(alert_id=f"call-callback-{_short(call.call_id)}",
                            kind=AlertKind.CALL_NOT_CALLED_BACK, entity_id="panggilan-112",
                            opd=rules.opd, raised_at=call.ended_at or now,
                            params={"minutes": round((now - (call.ended_at or now)).total_seconds() / 60),
                                    "limit_min": round(rules.callback_min)}))
    share = figures.last_hour_abandoned_share
    if share is not None and share > rules.abandon_share_max:
        alerts.append(Alert(alert_id="call-abandon-rate", kind=AlertKind.CALL_ABANDON_RATE,
                            entity_id="panggilan-112", opd=rules.opd, severity=3 if share > 0.2 else 2,
                            params={"share_pct": round(share * 100), "abandoned":
                                    figures.last_hour_abandoned, "calls": figures.last_hour_decided,
                                    "limit_pct": round(rules.abandon_share_max * 100)}))
    return alerts
