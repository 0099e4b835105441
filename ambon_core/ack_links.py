"""Acknowledgement links: a signed, expiring, single-use token per message.

The link in a notification (``<PUBLIC_BASE_URL>/?ack=<token>``) lets its recipient mark the
instruction "diterima" without logging in, and nothing else: the token names one
instruction and one message, is signed with the session secret (itsdangerous, its own
salt), expires after ``ACK_LINK_HOURS`` and is spent on use (``notify_ack_use``). Every
refusal (forged, expired, already used, unknown instruction) is a plain sentence for
the recipient and an ``instruction.ack_refused`` row in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ambon_core.auth import session_secret
from ambon_core.domain import utcnow
from ambon_core.history import audit
from ambon_core.models import AckLinkUse, Instruction, OutboxMessage
from ambon_core.settings import Settings

SALT = "ambon.instruction-ack.v1"
ACTOR = "tautan"  # the audit actor of a link: no login behind it
REUSED = "Tautan ini sudah dipakai. Setiap tautan hanya berlaku satu kali."


class AckRefused(ValueError):
    """The link cannot acknowledge; ``str()`` is for the recipient, ``code`` for the audit
    (forged, expired, reused, unknown)."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code


@dataclass(frozen=True)
class AckResult:
    instruction_id: int
    label: str
    at: datetime
    already: bool  # someone had acknowledged it before (still fine)


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(session_secret(settings), salt=SALT)


def make_token(settings: Settings, instruction_id: int, message_key: str) -> str:
    return _serializer(settings).dumps({"i": instruction_id, "m": message_key})


def ack_url(settings: Settings, instruction_id: int, message_key: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/?ack={make_token(settings, instruction_id, message_key)}"


def read_token(settings: Settings, token: str) -> tuple[int, str]:
    """(instruction id, message key) of a genuine, unexpired token; AckRefused otherwise."""
    max_age = int(settings.ack_link_hours * 3600)
    try:
        data = _serializer(settings).loads(token, max_age=max_age)
    except SignatureExpired:
        raise AckRefused("expired", f"Tautan ini sudah kedaluwarsa (berlaku "
                         f"{settings.ack_link_hours:g} jam). Tandai diterima di dasbor.") from None
    except BadSignature:
        raise AckRefused("forged", "Tautan ini tidak sah (rusak, atau bukan dari dasbor "
                         "Kota Ambon).") from None
    if not isinstance(data, dict) or not isinstance(data.get("i"), int) or \
            not isinstance(data.get("m"), str):
        raise AckRefused("forged", "Tautan ini tidak sah (isi tidak dikenal).")
    return data["i"], data["m"]


def check(session: Session, settings: Settings, token: str) -> tuple[Instruction, OutboxMessage]:
    """What a token would acknowledge, without spending it (the page shows it first)."""
    instruction_id, key = read_token(settings, token)
    message = session.query(OutboxMessage).filter_by(key=key).one_or_none()
    row = session.get(Instruction, instruction_id)
    if row is None or message is None or message.instruction_id != instruction_id:
        raise AckRefused("unknown", "Instruksi untuk tautan ini tidak ada lagi.")
    if session.get(AckLinkUse, key) is not None:
        raise AckRefused("reused", REUSED)
    return row, message


def acknowledge(session: Session, settings: Settings, token: str) -> AckResult:
    """Spend the token and mark its instruction received by the message's recipient."""
    row, message = check(session, settings, token)
    now = utcnow()
    session.add(AckLinkUse(message_key=message.key, instruction_id=row.id, used_at=now))
    already = row.acknowledged_at is not None
    if not already:
        row.acknowledged_at, row.acknowledged_by = now, f"{message.contact_label} (tautan)"
    audit(session, ACTOR, "instruction.acknowledge", f"instruction:{row.id}",
          via="link", contact=message.contact_ref, already=already)
    try:
        session.commit()
    except IntegrityError:  # the same link clicked twice at once: the other click won
        session.rollback()
        raise AckRefused("reused", REUSED) from None
    return AckResult(row.id, message.contact_label, row.acknowledged_at or now, already)


def refuse(session: Session, refused: AckRefused, token: str) -> None:
    """Audit a refused link (a fragment of the token only: it is a bearer credential)."""
    audit(session, ACTOR, "instruction.ack_refused", None, reason=refused.code,
          token=token[:12])
    session.commit()
