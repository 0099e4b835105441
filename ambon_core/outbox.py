"""The notification outbox: messages written with the instruction, sent by the notifier.

Delivery contract ("exactly once" as far as a network allows):

- A message row is written in the same transaction as the instruction (or escalation)
  that needs it: no instruction without its messages, no message without its instruction.
- The notifier *claims* a due row (a conditional UPDATE to ``sending``, committed), sends
  it through Apprise, then *marks* it ``sent``. A failed send goes back to ``pending``
  with capped exponential backoff and jitter; it is retried for ever (never dropped) and
  shown as failing after ``NOTIFY_FAILING_AFTER`` attempts. A target Apprise cannot use
  is ``invalid`` at once (the admin fixes the contact).
- While the database is away after a send, the notifier keeps the mark in memory and
  writes it before anything else, so a DB outage sends nothing twice. Only a notifier
  killed between a send and its mark leaves the row ``sending`` (at most one claimed
  batch, ``NotifierWorker.batch``, is in that state); after ``NOTIFY_CLAIM_LEASE_S`` it
  is sent again *with the same idempotency key*. So the
  guarantee is at-least-once transport with one key per message: every message carries
  its key as an ``Idempotency-Key`` header (e-mail, webhooks), as ``idempotency_key`` in
  a JSON body and as ``Ref:`` in the text; a receiver that drops keys it has seen gets
  each message exactly once.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from ambon_core.contacts import ContactRef, channel_of
from ambon_core.domain import utcnow
from ambon_core.history import audit
from ambon_core.models import OutboxMessage
from ambon_core.settings import Settings

IDEMPOTENCY_HEADER = "Idempotency-Key"
_URLISH = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One message to one target, as pages may show it (label and channel, no target)."""

    label: str
    channel: str
    level: int
    status: str  # pending | sending | sent | invalid
    attempts: int
    sent_at: datetime | None
    failing: bool


def message_key(instruction_id: int, level: int, contact: ContactRef) -> str:
    return f"i{instruction_id}-l{level}-{contact.ref.replace(':', '')}"


def enqueue(session: Session, instruction_id: int, level: int, contact: ContactRef,
            title: str, body: str, now: datetime | None = None) -> OutboxMessage:
    """Add one message to the caller's transaction (the caller commits)."""
    now = now or utcnow()
    row = OutboxMessage(key=message_key(instruction_id, level, contact),
                        instruction_id=instruction_id, level=level, contact_ref=contact.ref,
                        contact_label=contact.label, url=contact.url, title=title[:200],
                        body=body, status="pending", attempts=0, next_attempt_at=now,
                        created_at=now)
    session.add(row)
    return row


def _due(now: datetime, lease_s: float):
    stale = now - timedelta(seconds=lease_s)
    return or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
               and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < stale))


def claim_due(session: Session, claim: str, lease_s: float, limit: int = 10,
              now: datetime | None = None) -> list[OutboxMessage]:
    """Claim up to ``limit`` due messages for ``claim`` in one committed transaction.

    The conditional UPDATE is the lock: of two notifiers only one changes a row. No
    transaction (nor SQLite write lock) stays open across the network sends that follow."""
    now = now or utcnow()
    candidates = session.scalars(select(OutboxMessage.id).where(_due(now, lease_s))
                                 .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                                 .limit(limit)).all()
    if not candidates:
        session.commit()
        return []
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(candidates), _due(now, lease_s))
        .values(status="sending", claimed_at=now, claimed_by=claim,
                attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False))
    claimed = session.scalars(select(OutboxMessage).where(
        OutboxMessage.id.in_(candidates), OutboxMessage.claimed_by == claim)
        .order_by(OutboxMessage.id).execution_options(populate_existing=True)).all()
    session.commit()
    return list(claimed)


def claim_next(session: Session, claim: str, lease_s: float,
               now: datetime | None = None) -> OutboxMessage | None:
    """Claim one due message (committed), or None when nothing is due."""
    claimed = claim_due(session, claim, lease_s, limit=1, now=now)
    return claimed[0] if claimed else None


def mark_sent(session: Session, message_id: int, claim: str, at: datetime, *,
              commit: bool = True) -> None:
    """Record a delivery (idempotent; a mark after the lease passed still tells the truth)."""
    row = session.get(OutboxMessage, message_id, populate_existing=True)
    if row is None or row.status == "sent":
        return
    row.status, row.sent_at, row.last_error = "sent", at, None
    audit(session, "notifier", "notify.sent", f"instruction:{row.instruction_id}",
          key=row.key, contact=row.contact_ref, attempts=row.attempts)
    if commit:
        session.commit()


@dataclass(frozen=True)
class SentMark:
    """A delivery that happened, kept in memory until SQL has it (plain data: it must
    outlive a rolled-back session)."""

    id: int
    instruction_id: int
    key: str
    contact_ref: str
    attempts: int
    at: datetime

    @classmethod
    def of(cls, m: OutboxMessage, at: datetime) -> SentMark:
        return cls(m.id, m.instruction_id, m.key, m.contact_ref, m.attempts, at)


def mark_sent_many(session: Session, sent: list[SentMark]) -> None:
    """Record many deliveries in the caller's transaction: one UPDATE by primary key and
    the audit rows (the notifier commits once per batch)."""
    if not sent:
        return
    session.execute(update(OutboxMessage), [
        {"id": m.id, "status": "sent", "sent_at": m.at, "last_error": None} for m in sent])
    for m in sent:
        audit(session, "notifier", "notify.sent", f"instruction:{m.instruction_id}", key=m.key,
              contact=m.contact_ref, attempts=m.attempts)


def backoff_s(attempts: int, settings: Settings) -> float:
    """Capped exponential backoff with full jitter's upper half (no thundering retries)."""
    ceiling = min(settings.notify_retry_max_s, settings.notify_retry_base_s * 2 ** (attempts - 1))
    return ceiling * (0.5 + random.random() / 2)  # spread, not secrecy


def mark_failed(session: Session, message_id: int, claim: str, error: str,
                settings: Settings, now: datetime | None = None, *, commit: bool = True) -> None:
    """Back to pending with a later attempt; the first failure and 'failing' are audited."""
    now = now or utcnow()
    row = session.get(OutboxMessage, message_id, populate_existing=True)
    if row is None or row.status != "sending" or row.claimed_by != claim:
        return
    row.status, row.claimed_at, row.claimed_by = "pending", None, None
    row.last_error = scrub(error)[:300]
    row.next_attempt_at = now + timedelta(seconds=backoff_s(row.attempts, settings))
    if row.attempts in (1, settings.notify_failing_after):
        audit(session, "notifier", "notify.failing" if row.attempts > 1 else "notify.retry",
              f"instruction:{row.instruction_id}", key=row.key, contact=row.contact_ref,
              attempts=row.attempts, error=row.last_error)
    if commit:
        session.commit()


def mark_invalid(session: Session, message_id: int, claim: str, error: str, *,
                 commit: bool = True) -> None:
    row = session.get(OutboxMessage, message_id, populate_existing=True)
    if row is None or row.claimed_by != claim:
        return
    row.status, row.last_error = "invalid", scrub(error)[:300]
    audit(session, "notifier", "notify.invalid_target", f"instruction:{row.instruction_id}",
          key=row.key, contact=row.contact_ref, error=row.last_error)
    if commit:
        session.commit()


def scrub(text: str) -> str:
    """An error text without URLs (they may hold tokens or passwords)."""
    return _URLISH.sub("<url>", " ".join(str(text).split())) or "gagal tanpa keterangan"


def deliveries(session: Session, instruction_ids: list[int],
               settings: Settings) -> dict[int, list[Delivery]]:
    """Delivery status per target, per instruction, lowest level first."""
    out: dict[int, list[Delivery]] = {i: [] for i in instruction_ids}
    if not instruction_ids:
        return out
    rows = session.scalars(select(OutboxMessage).where(
        OutboxMessage.instruction_id.in_(instruction_ids))
        .order_by(OutboxMessage.level, OutboxMessage.id))
    for r in rows:
        out[r.instruction_id].append(Delivery(
            r.contact_label, channel_of(r.url), r.level, r.status, r.attempts, r.sent_at,
            failing=r.status != "sent" and r.attempts >= settings.notify_failing_after))
    return out
