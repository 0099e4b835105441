"""Notifier worker: sends the outbox through Apprise, escalates, verifies by evidence.

Each turn: first the marks still owed from a database outage, then (every few seconds)
verification (an instruction whose alert cleared is "terverifikasi") and escalation
(past the deadline -> the next level's messages), then delivery of the due messages in
small batches: claim (committed) -> send (a few in parallel) -> mark each as it returns.
The delivery contract is in ``ambon_core.outbox``. Apprise's own log does not reach ours
(its lines name recipients); its error text is captured and scrubbed of URLs before use.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed

import apprise
from sqlalchemy.exc import SQLAlchemyError

from ambon_core import followup, outbox
from ambon_core.contacts import quiet_apprise
from ambon_core.domain import utcnow
from ambon_core.models import OutboxMessage
from workers.base import LoopWorker

log = logging.getLogger(__name__)
quiet_apprise()  # Apprise's lines reach only the capture in send(), scrubbed before use
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
    batch = 10  # claimed together; sent in parallel, marked one by one as each returns
    senders = 4  # one slow target does not hold up the others
    followup_every_s = 5.0  # verification and escalation run at a slower pace

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.interval_s = self.settings.notify_interval_s
        self.unmarked: dict[int, outbox.SentMark] = {}  # sent, not yet marked in SQL
        self.sent_total = 0
        self.budget_s = max(1.0, self.settings.heartbeat_ttl_s / 3)  # beat in time
        self.pool = ThreadPoolExecutor(self.senders, thread_name_prefix="notify-send")
        self.next_followup = 0.0

    def turn(self) -> None:
        started = time.monotonic()
        with self.sessions() as session:
            self._flush_marks(session)
            if started >= self.next_followup:
                followup.verify_resolved(session)
                followup.escalate_due(session, self.registry, self.settings)
                self.next_followup = started + self.followup_every_s
            while time.monotonic() - started < self.budget_s:
                if not self._deliver_batch(session):
                    break
        self.detail = {"sent": self.sent_total, "unmarked": len(self.unmarked)}

    def _deliver_batch(self, session) -> bool:
        """Claim a batch, send it (in parallel), then record every outcome in one commit:
        SQLite pays an fsync per commit, and a crash repeats at most this batch anyway."""
        claim = f"{self.name}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        messages = outbox.claim_due(session, claim, self.settings.notify_claim_lease_s,
                                    self.batch)
        futures = {self.pool.submit(_outcome, m): m for m in messages}
        outcomes = [(futures[f], f.result()) for f in as_completed(futures)]
        for message, (ok, _) in outcomes:
            if ok:
                self.sent_total += 1
                self.unmarked[message.id] = outbox.SentMark.of(message, utcnow())
        try:
            for message, (ok, error) in outcomes:
                if ok is None:
                    outbox.mark_invalid(session, message.id, claim, error, commit=False)
                elif not ok:
                    outbox.mark_failed(session, message.id, claim, error, self.settings,
                                       commit=False)
            self._flush_marks(session)
        except SQLAlchemyError:
            _rollback(session)
            raise  # the loop backs off; the sent marks are written first next turn
        return bool(messages)

    def _flush_marks(self, session) -> None:
        """Write the marks of sent messages (one commit), then forget them."""
        if not self.unmarked:
            session.commit()  # the failures of the batch, if any
            return
        outbox.mark_sent_many(session, list(self.unmarked.values()))
        session.commit()
        self.unmarked.clear()


def _outcome(message: OutboxMessage) -> tuple[bool | None, str]:
    """(True, ''), (False, why) or (None, why) for a target that cannot be used."""
    try:
        error = send(message)
    except InvalidTarget as exc:
        return None, str(exc)
    return error is None, error or ""


def _rollback(session) -> None:
    try:
        session.rollback()
    except SQLAlchemyError:
        pass  # the connection is gone with the database; a new session starts next turn
