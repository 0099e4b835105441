"""After an instruction is given: its deadline, its messages, escalation, verification.

- **Deadline**: settable when instructing; by default per alert kind (a puskesmas not
  open: 15 min, a TPS overflowing: 4 h, an incident by severity; ``DEFAULT_DEADLINE_MIN``).
- **Messages**: one per target of the current level (``ambon_core.contacts``), written to
  the outbox in the caller's transaction; short Indonesian text with the place, what is
  wrong (the alert as the public may read it: no citizen's personal data), who instructs,
  the deadline, a link to the item and a single-use acknowledgement link.
- **Escalation**: not verified by its deadline -> the next level (site -> OPD head ->
  Sekda / the mayor), once per level, each step with a fresh deadline of the same length
  and an ``instruction.escalate`` audit row saying why (not acknowledged / not resolved).
- **Verification**: when the alert behind it clears in the record (``alert.cleared_at``),
  the instruction is "terverifikasi" at that moment, whether or not "done" was clicked.

The owning OPD of an alert is ``Alert.opd`` (set at the raise site; issue 13's AlertSpec
fills it from the kind). Nothing here imports ``streamlit``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ambon_core.ack_links import ack_url
from ambon_core.contacts import LEVELS, ContactRef, all_contacts, targets_at
from ambon_core.domain import Alert, AlertKind, utcnow
from ambon_core.history import audit
from ambon_core.models import AlertRecord, Instruction, User
from ambon_core.outbox import enqueue, message_key
from ambon_core.registry import Registry
from ambon_core.settings import Settings

DEFAULT_DEADLINE_MIN: dict[str, float] = {
    AlertKind.PUSKESMAS_LATE: 15, AlertKind.QUEUE_LONG: 30, AlertKind.TPS_OVERFLOW: 240,
    AlertKind.DUMPING: 240, AlertKind.CONGESTION: 30, AlertKind.ACCIDENT_CANDIDATE: 15,
    AlertKind.ILLEGAL_PARKING: 60, AlertKind.CAMERA_OFFLINE: 240, AlertKind.FEED_DEGRADED: 240,
    AlertKind.EARTHQUAKE: 30, AlertKind.WEATHER: 60,
}
INCIDENT_DEADLINE_MIN = {3: 30, 2: 120, 1: 480}  # by severity
FALLBACK_DEADLINE_MIN = 60.0  # an instruction not tied to an alert
MAX_DEADLINE_MIN = 14 * 24 * 60
# an alert cleared this shortly before the instruction was written was still on the
# instructor's screen: it counts as the alert the instruction is about
CLEAR_RACE = timedelta(seconds=30)


def default_deadline_min(alert: Alert | None) -> float:
    """The deadline an instruction about ``alert`` gets unless the instructor sets one."""
    if alert is None:
        return FALLBACK_DEADLINE_MIN
    if alert.kind == AlertKind.INCIDENT:
        return INCIDENT_DEADLINE_MIN.get(alert.severity, 120)
    return DEFAULT_DEADLINE_MIN.get(alert.kind, FALLBACK_DEADLINE_MIN)


def _who(session: Session, username: str) -> str:
    user = session.scalar(select(User).where(User.username == username))
    name = user.display_name if user is not None and user.display_name else username
    role = {"walikota": "Wali Kota", "admin": "Admin"}.get(user.role if user else "", "")
    return f"{role} {name}".strip() if role and role.lower() not in name.lower() else name


def compose(session: Session, row: Instruction, registry: Registry, settings: Settings,
            level: int, key: str, reason: str | None = None) -> tuple[str, str]:
    """(title, body) of one message, in Indonesian, with the recipient's own ack link."""
    opd = next((o.name for o in registry.opds if o.code == row.opd), row.opd)
    deadline = row.deadline_at.astimezone(settings.tz).strftime("%H:%M WIT (%d/%m)") \
        if row.deadline_at else "-"
    head = f"ESKALASI ({reason}): " if reason else ""
    title = f"{head}Instruksi #{row.id}: {row.place or opd}"
    base = settings.public_base_url.rstrip("/")
    body = "\n".join([
        f"{head}Instruksi #{row.id} untuk {opd}",
        f"Tempat: {row.place or '-'}",
        f"Masalah: {row.problem or '-'}",
        f"Instruksi: {row.text}",
        f"Dari: {_who(session, row.created_by)}",
        f"Batas waktu: {deadline}",
        f"Tandai diterima: {ack_url(settings, row.id, key)}",
        f"Lihat: {base}/?instruction={row.id}",
        f"Ref: {key}",
    ])
    return title, body


def queue_level(session: Session, row: Instruction, registry: Registry, settings: Settings,
                level: int, reason: str | None = None,
                contacts: list[ContactRef] | None = None) -> int:
    """Messages to every target of ``level`` (in the caller's transaction); how many."""
    contacts = all_contacts(session, registry) if contacts is None else contacts
    targets = targets_at(contacts, level, row.opd, row.entity_id)
    for contact in targets:
        key = message_key(row.id, level, contact)
        title, body = compose(session, row, registry, settings, level, key, reason)
        enqueue(session, row.id, level, contact, title, body)
    return len(targets)


def first_level(contacts: list[ContactRef], row: Instruction) -> int:
    """The lowest level with somebody to tell (the site when it has a contact)."""
    for level in range(len(LEVELS)):
        if targets_at(contacts, level, row.opd, row.entity_id):
            return level
    return 1


def escalate_due(session: Session, registry: Registry, settings: Settings,
                 now: datetime | None = None) -> list[int]:
    """Escalate every instruction past its deadline one level up (committed); their ids."""
    now = now or utcnow()
    stmt = select(Instruction).where(
        Instruction.deadline_at.is_not(None), Instruction.deadline_at < now,
        Instruction.escalation_level < len(LEVELS) - 1, Instruction.verified_at.is_(None))
    done: list[int] = []
    for row in session.scalars(stmt).all():
        if row.alert_id is None and row.status == "done":
            continue  # nothing to verify: "done" closes it
        span = (row.deadline_at - (row.escalated_at or row.created_at))
        reason = "belum diterima" if row.acknowledged_at is None else "belum terverifikasi"
        row.escalation_level += 1
        row.escalated_at, row.deadline_at = now, now + max(span, timedelta(minutes=1))
        sent = queue_level(session, row, registry, settings, row.escalation_level, reason)
        audit(session, "sistem", "instruction.escalate", f"instruction:{row.id}",
              level=LEVELS[row.escalation_level], reason=reason, targets=sent)
        done.append(row.id)
    session.commit()
    return done


def verify_resolved(session: Session, now: datetime | None = None) -> list[int]:
    """Mark verified every instruction whose alert has cleared in the record; their ids.

    The alert record is the one active when the instruction was given (raised before it,
    not cleared before it); one query for all of them."""
    now = now or utcnow()
    rec = AlertRecord
    rows = session.execute(
        select(Instruction, rec.cleared_at).join(rec, rec.alert_id == Instruction.alert_id)
        .where(Instruction.verified_at.is_(None), Instruction.alert_id.is_not(None),
               rec.raised_at <= Instruction.created_at, rec.cleared_at.is_not(None))
        .order_by(rec.cleared_at)).all()
    verified: list[int] = []
    for row, cleared_at in rows:
        if row.verified_at is not None or cleared_at < row.created_at - CLEAR_RACE:
            continue  # an earlier life of the alert, or a second record of this one
        row.verified_at = max(cleared_at, row.created_at)
        audit(session, "sistem", "instruction.verified", f"instruction:{row.id}",
              alert_id=row.alert_id, minutes=round(
                  (row.verified_at - row.created_at).total_seconds() / 60, 1))
        verified.append(row.id)
    session.commit()
    return verified
