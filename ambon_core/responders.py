"""Who responds: per department, how instructions are answered (a pure function + a read).

Per OPD: open instructions (not closed: neither verified nor, without an alert, done),
overdue ones (open past their deadline), the median time from instruction to
acknowledgement and to verified resolution for instructions given in the last 7 and 30
days, and the age of the oldest open one. The mayor sees every department; an OPD head
sees their own (the caller filters).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from ambon_core.actions import InstructionView, instruction_state, is_overdue
from ambon_core.models import Instruction

WINDOWS_D = (7, 30)


@dataclass(frozen=True)
class ResponderRow:
    opd: str
    open: int
    overdue: int
    ack_median_s: dict[int, float | None]  # window (days) -> seconds
    verified_median_s: dict[int, float | None]
    oldest_open_s: float | None


def _median(values: list[float]) -> float | None:
    return median(values) if values else None


def board(items: list[InstructionView], now: datetime, opds: list[str]) -> list[ResponderRow]:
    """One row per department in ``opds`` (in that order), from its instructions."""
    rows = []
    for opd in opds:
        mine = [i for i in items if i.opd == opd]
        still_open = [i for i in mine if instruction_state(i) not in ("terverifikasi", "selesai")]
        ack, verified = {}, {}
        for days in WINDOWS_D:
            recent = [i for i in mine if i.created_at >= now - timedelta(days=days)]
            ack[days] = _median([(i.acknowledged_at - i.created_at).total_seconds()
                                 for i in recent if i.acknowledged_at is not None])
            verified[days] = _median([(i.verified_at - i.created_at).total_seconds()
                                      for i in recent if i.verified_at is not None])
        oldest = min((i.created_at for i in still_open), default=None)
        rows.append(ResponderRow(opd, len(still_open), sum(is_overdue(i, now) for i in still_open),
                                 ack, verified,
                                 (now - oldest).total_seconds() if oldest else None))
    return rows


def recent_instructions(session: Session, now: datetime, opd: str | None = None,
                        limit: int = 5000) -> list[InstructionView]:
    """Instructions given in the longest window, plus every one still open."""
    from ambon_core.actions import instructions

    since = now - timedelta(days=max(WINDOWS_D))
    seen = {i.id: i for i in instructions(session, opd=opd, open_only=True, limit=limit)}
    stmt = select(Instruction.id).where(Instruction.created_at >= since)
    recent_ids = set(session.scalars(stmt))
    for item in instructions(session, opd=opd, open_only=False, limit=limit):
        if item.id in recent_ids:
            seen.setdefault(item.id, item)
    return list(seen.values())
