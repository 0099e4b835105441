"""Acting on alerts: acknowledge, note, instruct a department, mark an instruction done.

Every action is stored with who and when and is written to the audit log in the same
transaction. Permission checks are the caller's (the UI's access rules) business;
these functions only refuse what is malformed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ambon_core.domain import Alert, utcnow
from ambon_core.history import audit
from ambon_core.models import AlertAction, Instruction

MAX_TEXT = 1000


class ActionError(ValueError):
    """The action cannot be done as asked; the message says why, for people."""


@dataclass(frozen=True)
class InstructionView:
    id: int
    opd: str
    text: str
    status: str
    alert_id: str | None
    entity_id: str | None
    created_by: str
    created_at: datetime
    done_at: datetime | None


def _clean(text: str | None, *, required: bool) -> str | None:
    text = (text or "").strip()
    if required and not text:
        raise ActionError("teks tidak boleh kosong")
    if len(text) > MAX_TEXT:
        raise ActionError(f"teks terlalu panjang (maks. {MAX_TEXT} karakter)")
    return text or None


def acknowledge(session: Session, alert_id: str, actor: str, note: str | None = None) -> None:
    """Record that ``actor`` saw the alert (with an optional note)."""
    note = _clean(note, required=False)
    session.add(AlertAction(alert_id=alert_id, action="note" if note else "acknowledge",
                            actor=actor, note=note, at=utcnow()))
    audit(session, actor, "alert.acknowledge", alert_id, note=note)
    session.commit()


def instruct(session: Session, alert: Alert | None, opd: str, text: str, actor: str,
             known_opds: set[str]) -> int:
    """Send an instruction to a department; returns its id."""
    if opd not in known_opds:
        raise ActionError(f"OPD '{opd}' tidak dikenal")
    row = Instruction(alert_id=alert.alert_id if alert else None,
                      alert_kind=alert.kind.value if alert else None,
                      entity_id=alert.entity_id if alert else None, opd=opd,
                      text=_clean(text, required=True), created_by=actor, created_at=utcnow())
    session.add(row)
    session.flush()
    audit(session, actor, "instruction.create", f"instruction:{row.id}", opd=opd,
          alert_id=row.alert_id)
    session.commit()
    return row.id


def complete(session: Session, instruction_id: int, actor: str, opd: str | None,
             note: str | None = None) -> None:
    """Mark an instruction done; ``opd`` (when given) must be the instruction's department."""
    row = session.get(Instruction, instruction_id)
    if row is None:
        raise ActionError(f"instruksi {instruction_id} tidak ada")
    if opd is not None and row.opd != opd:
        raise ActionError("instruksi ini untuk OPD lain")
    if row.status == "done":
        return  # done twice is done once
    row.status, row.done_by, row.done_at = "done", actor, utcnow()
    row.done_note = _clean(note, required=False)
    audit(session, actor, "instruction.done", f"instruction:{row.id}", opd=row.opd)
    session.commit()


def instructions(session: Session, *, opd: str | None = None, open_only: bool = True,
                 limit: int = 200) -> list[InstructionView]:
    """Instructions, newest first, for one department or all."""
    stmt = select(Instruction).order_by(Instruction.created_at.desc()).limit(limit)
    if opd is not None:
        stmt = stmt.where(Instruction.opd == opd)
    if open_only:
        stmt = stmt.where(Instruction.status == "open")
    return [InstructionView(r.id, r.opd, r.text, r.status, r.alert_id, r.entity_id,
                            r.created_by, r.created_at, r.done_at)
            for r in session.scalars(stmt)]
