"""Notifier worker: sends the outbox through Apprise, escalates, verifies by evidence.

Each turn: first the marks still owed from a database outage, then verification (an
instruction whose alert cleared is "terverifikasi"), then escalation (past the
deadline -> the next level's messages), then delivery of the due messages, one at a
time: claim (committed) -> send -> mark. The delivery contract is in
``ambon_core.outbox``. Apprise's own log is kept at WARNING (its INFO lines name the
recipients) and its error text is scrubbed of URLs before it is stored.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from datetime import datetime

import apprise
from sqlalchemy.exc import SQLAlchemyError

from ambon_core import followup, outbox
from ambon_core.domain import utcnow
from ambon_core.models import OutboxMessage
from workers.base import LoopWorker

log = logging.getLogger(__name__)
logging.getLogger("apprise").setLevel(logging.WARNING)
SEND_TIMEOUT_S = 10.0  # connect and read, per message


class InvalidTarget(ValueError):
    """Apprise cannot build a notifier from the stored URL."""


def send(message: OutboxMessage) -> str | None:
    """Send one message; None on success, else the (scrubbed) reason it failed."""
    plugin = apprise.Apprise.instantiate(message.url, suppress_exceptions=True)
    if plugin is None:
        raise InvalidTarget("alamat target tidak dapat dipakai (periksa kontak di Admin)")
    plugin.socket_connect_timeout = plugin.socket_read_timeout = SEND_TIMEOUT_S
    if isinstance(getattr(plugin, "headers", None), dict):  # e-mail, json://, form://
        plugin.headers[outbox.IDEMPOTENCY_HEADER] = message.key
    if isinstance(getattr(plugin, "payload_extras", None), dict):  # json://
        plugin.payload_extras["idempotency_key"] = message.key
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        try:
            ok = plugin.notify(body=message.body, title=message.title)
        except Exception as exc:  # a plugin bug must not kill the loop
            return outbox.scrub(f"{type(exc).__name__}: {exc}")
    return None if ok else outbox.scrub(captured.getvalue() or "target menolak pesan")


class NotifierWorker(LoopWorker):
    name = "notifier"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.interval_s = self.settings.notify_interval_s
        self.unmarked: dict[int, tuple[str, datetime]] = {}  # sent, mark not yet stored
        self.sent_total = 0
        self.budget_s = max(1.0, self.settings.heartbeat_ttl_s / 3)  # beat in time

    def turn(self) -> None:
        started = time.monotonic()
        with self.sessions() as session:
            self._flush_marks(session)
            followup.verify_resolved(session)
            followup.escalate_due(session, self.registry, self.settings)
            while time.monotonic() - started < self.budget_s:
                if not self._deliver_one(session):
                    break
        self.detail = {"sent": self.sent_total, "unmarked": len(self.unmarked)}

    def _flush_marks(self, session) -> None:
        for message_id, (claim, at) in list(self.unmarked.items()):
            outbox.mark_sent(session, message_id, claim, at)
            del self.unmarked[message_id]

    def _deliver_one(self, session) -> bool:
        claim = f"{self.name}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        message = outbox.claim_next(session, claim, self.settings.notify_claim_lease_s)
        if message is None:
            return False
        try:
            error = send(message)
        except InvalidTarget as exc:
            outbox.mark_invalid(session, message.id, claim, str(exc))
            return True
        if error is not None:
            outbox.mark_failed(session, message.id, claim, error, self.settings)
            return True
        self.sent_total += 1
        self.unmarked[message.id] = (claim, utcnow())  # kept until SQL has it
        try:
            outbox.mark_sent(session, message.id, claim, self.unmarked[message.id][1])
            del self.unmarked[message.id]
        except SQLAlchemyError:
            session.rollback()
            raise  # the loop backs off; the mark is written first next turn
        return True
