"""Acting on alerts: acknowledge, note, instruct a department, mark an instruction done.

Every action is stored with who and when and is written to the audit log in the same
transaction. Permission checks are the caller's (the UI's access rules) business;
these functions only refuse what is malformed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ambon_core.domain import Alert, utcnow
from ambon_core.history import audit
from ambon_core.models import AlertAction, Instruction
from ambon_core.registry import Registry
from ambon_core.settings import Settings, get_settings

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
    # issue 17 (ambon_core.followup): the state is derived by ``instruction_state``
    deadline_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    verified_at: datetime | None = None
    escalation_level: int = 0
    problem: str | None = None
    place: str | None = None
    done_note: str | None = None
    has_photo: bool = False


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
             known_opds: set[str], *, deadline_min: float | None = None,
             problem: str | None = None, place: str | None = None,
             registry: Registry | None = None, settings: Settings | None = None) -> int:
    """Send an instruction to a department; returns its id.

    Its messages to the first level's targets go to the outbox in the same transaction
    (``ambon_core.followup``); ``problem`` is the alert in words the public may read."""
    from ambon_core import followup
    from ambon_core.contacts import all_contacts
    from ambon_core.registry import load_registry

    if opd not in known_opds:
        raise ActionError(f"OPD '{opd}' tidak dikenal")
    minutes = followup.default_deadline_min(alert) if deadline_min is None else deadline_min
    if not 1 <= minutes <= followup.MAX_DEADLINE_MIN:
        raise ActionError(f"batas waktu harus 1 menit sampai {followup.MAX_DEADLINE_MIN // 1440} hari")
    now = utcnow()
    row = Instruction(alert_id=alert.alert_id if alert else None,
                      alert_kind=alert.kind.value if alert else None,
                      entity_id=alert.entity_id if alert else None, opd=opd,
                      text=_clean(text, required=True), created_by=actor, created_at=now,
                      deadline_at=now + timedelta(minutes=minutes), problem=problem,
                      place=place, escalation_level=0)
    session.add(row)
    session.flush()
    registry, settings = registry or load_registry(), settings or get_settings()
    contacts = all_contacts(session, registry)
    row.escalation_level = followup.first_level(contacts, row)
    sent = followup.queue_level(session, row, registry, settings, row.escalation_level,
                                contacts=contacts)
    audit(session, actor, "instruction.create", f"instruction:{row.id}", opd=opd,
          alert_id=row.alert_id, deadline_min=minutes, targets=sent)
    session.commit()
    return row.id


def acknowledge_instruction(session: Session, instruction_id: int, actor: str,
                            opd: str | None) -> None:
    """'Diterima' from the page; the first acknowledgement counts, later ones change nothing."""
    row = session.get(Instruction, instruction_id)
    if row is None:
        raise ActionError(f"instruksi {instruction_id} tidak ada")
    if opd is not None and row.opd != opd:
        raise ActionError("instruksi ini untuk OPD lain")
    if row.acknowledged_at is not None:
        return
    row.acknowledged_at, row.acknowledged_by = utcnow(), actor
    audit(session, actor, "instruction.acknowledge", f"instruction:{row.id}", via="page")
    session.commit()


def complete(session: Session, instruction_id: int, actor: str, opd: str | None,
             note: str | None = None, photo: bytes | None = None,
             photo_max_bytes: int | None = None) -> None:
    """Mark an instruction done; ``opd`` (when given) must be the instruction's department.

    A photo must really be an image under the size cap (``ambon_core.photos``); a refused
    one is audited and nothing else of the completion is lost (it is not saved either:
    the person sees why and submits again)."""
    from ambon_core.photos import PhotoError, clean_photo

    row = session.get(Instruction, instruction_id)
    if row is None:
        raise ActionError(f"instruksi {instruction_id} tidak ada")
    if opd is not None and row.opd != opd:
        raise ActionError("instruksi ini untuk OPD lain")
    if row.status == "done":
        return  # done twice is done once
    note = _clean(note, required=False)
    stored = None
    if photo is not None:
        limit = photo_max_bytes or get_settings().instruction_photo_max_kb * 1024
        try:
            stored = clean_photo(photo, limit)
        except PhotoError as exc:
            audit(session, actor, "instruction.photo_refused", f"instruction:{row.id}",
                  reason=str(exc), size=len(photo))
            session.commit()
            raise ActionError(str(exc)) from None
    row.status, row.done_by, row.done_at = "done", actor, utcnow()
    row.done_note, row.done_photo = note, stored
    audit(session, actor, "instruction.done", f"instruction:{row.id}", opd=row.opd,
          photo=stored is not None, verified=row.verified_at is not None)
    session.commit()


def instructions(session: Session, *, opd: str | None = None, open_only: bool = True,
                 limit: int = 200) -> list[InstructionView]:
    """Instructions, newest first, for one department or all. ``open_only``: not yet
    closed, i.e. neither verified by its alert clearing nor (without an alert) done;
    "done" while the alert is still active stays on the list."""
    stmt = select(Instruction).order_by(Instruction.created_at.desc()).limit(limit)
    if opd is not None:
        stmt = stmt.where(Instruction.opd == opd)
    if open_only:
        stmt = stmt.where(Instruction.verified_at.is_(None), or_(
            Instruction.status == "open", and_(Instruction.status == "done",
                                               Instruction.alert_id.is_not(None))))
    return [InstructionView(r.id, r.opd, r.text, r.status, r.alert_id, r.entity_id,
                            r.created_by, r.created_at, r.done_at, r.deadline_at,
                            r.acknowledged_at, r.acknowledged_by, r.verified_at,
                            r.escalation_level, r.problem, r.place, r.done_note,
                            r.done_photo is not None)
            for r in session.scalars(stmt)]


def instruction_state(item: InstructionView) -> str:
    """terverifikasi | selesai_belum_terverifikasi | selesai | diterima | terbuka."""
    if item.verified_at is not None:
        return "terverifikasi"
    if item.status == "done":
        return "selesai_belum_terverifikasi" if item.alert_id else "selesai"
    return "diterima" if item.acknowledged_at is not None else "terbuka"


def is_overdue(item: InstructionView, now: datetime | None = None) -> bool:
    return (item.deadline_at is not None and instruction_state(item) not in
            ("terverifikasi", "selesai") and (now or utcnow()) > item.deadline_at)
