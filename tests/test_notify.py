"""Instructions that reach people (issue 17): contacts, outbox, delivery through Apprise to
a real SMTP server and a real webhook on loopback, retries, bad targets, escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from ambon_core.actions import ActionError, instruct
from ambon_core.contacts import ContactError, add_contact, masked
from ambon_core.domain import Alert, AlertKind, utcnow
from ambon_core.followup import default_deadline_min, escalate_due
from ambon_core.models import AuditLog, Instruction, NotifyContact, OutboxMessage
from ambon_core.outbox import deliveries
from ambon_core.registry import load_registry
from ambon_core.settings import Settings
from tests.login import make_user
from tests.receivers import SmtpReceiver, WebhookReceiver, wait_for
from workers.notifier import NotifierWorker

REG = load_registry()
PKM = REG.puskesmas[0]
CITY_OPDS = {o.code for o in REG.opds if not o.partner}


def late_alert(pkm=PKM) -> Alert:
    return Alert(alert_id=f"puskesmas_late:{pkm.id}", kind=AlertKind.PUSKESMAS_LATE,
                 entity_id=pkm.id, opd="dinkes", severity=3,
                 params={"name": pkm.name, "minutes_late": 23, "waiting": 7,
                         "scheduled_open": "08:00"})


def fast(settings: Settings, **extra) -> Settings:
    """Settings with retries in milliseconds, so a test runs many attempts quickly."""
    return settings.model_copy(update={"notify_retry_base_s": 0.01, "notify_retry_max_s": 0.05,
                                       "public_base_url": "http://dasbor.test", **extra})


def give(session: Session, settings: Settings, alert: Alert | None = None, **kw) -> int:
    make_user(session, "walikota", "walikota")
    alert = alert or late_alert()
    return instruct(session, alert, "dinkes", kw.pop("text", "Segera buka pintu dan layani warga"),
                    "walikota", CITY_OPDS, problem=f"{alert.params.get('name')} belum buka",
                    place=str(alert.params.get("name")), registry=REG, settings=settings, **kw)


def drain(worker: NotifierWorker, session: Session, timeout_s: float = 60) -> None:
    """Run notifier turns until no message is pending or being sent."""
    def settled() -> bool:
        session.expire_all()
        return session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status.in_(("pending", "sending")))) == 0
    wait_for(settled, timeout_s, step=worker.run_once)


def audits(session: Session, action: str) -> list[AuditLog]:
    session.expire_all()
    return list(session.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_email_and_webhook_each_get_the_message_once(settings, store, session) -> None:
    s = fast(settings)
    with SmtpReceiver() as smtp, WebhookReceiver() as hook:
        add_contact(session, REG, label="Kepala Puskesmas", url=smtp.target("kapus@ambon.go.id"),
                    opd="dinkes", site=PKM.id, actor="admin")
        add_contact(session, REG, label="Grup piket puskesmas", url=hook.target(),
                    opd="dinkes", site=PKM.id, actor="admin")
        iid = give(session, s, deadline_min=20)
        worker = NotifierWorker(s)
        drain(worker, session)
        assert len(smtp.counts) == 1 and set(smtp.counts.values()) == {1}
        assert len(hook.counts) == 1 and set(hook.counts.values()) == {1}
        mail = next(iter(smtp.messages.values()))
        assert mail["to"] == ["kapus@ambon.go.id"]
        text = mail["text"]
        for expected in (f"Instruksi #{iid}", f"Tempat: {PKM.name}", "Masalah:", "belum buka",
                         "Dari: Wali Kota", "Batas waktu:", "WIT", "Tandai diterima: http://dasbor.test/?ack=",
                         f"Lihat: http://dasbor.test/?instruction={iid}", "Ref: i"):
            assert expected in text, (expected, text)
        webhook = next(iter(hook.messages.values()))
        assert webhook["header"] == webhook["idempotency_key"] == next(iter(hook.counts))
        assert PKM.name in webhook["title"]
    views = deliveries(session, [iid], s)[iid]
    assert {(d.label, d.channel, d.status) for d in views} == {
        ("Kepala Puskesmas", "email", "sent"), ("Grup piket puskesmas", "webhook", "sent")}
    assert len(audits(session, "notify.sent")) == 2


def test_failing_target_is_retried_with_backoff_and_seen_once(settings, store, session) -> None:
    s = fast(settings)
    with WebhookReceiver(fail=lambda key, attempt: attempt <= 2) as hook, SmtpReceiver() as smtp:
        add_contact(session, REG, label="Kadis Kesehatan", url=hook.target(), opd="dinkes",
                    site=None, actor="admin")
        add_contact(session, REG, label="Sekretaris Dinas", url=smtp.target("sekdis@ambon.go.id"),
                    opd="dinkes", site=None, actor="admin")
        iids = [give(session, s, alert=late_alert(p)) for p in REG.puskesmas[:3]]
        drain(NotifierWorker(s), session)
        assert len(hook.counts) == 3 and set(hook.counts.values()) == {1}  # accepted once
        assert set(hook.attempts.values()) == {3}  # two refusals, then the delivery
        assert len(smtp.counts) == 3 and set(smtp.counts.values()) == {1}
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.url.like("json%"))).all()
    assert {r.attempts for r in rows} == {3} and {r.status for r in rows} == {"sent"}
    retries = audits(session, "notify.retry")
    assert len(retries) == 3 and all("Internal Server Error" in str(a.detail) or "500" in
                                     str(a.detail) for a in retries)
    assert {d.attempts for i in iids for d in deliveries(session, [i], s)[i]
            if d.channel == "webhook"} == {3}


def test_unreachable_target_keeps_retrying_and_loses_nothing_else(settings, store, session) -> None:
    s = fast(settings, notify_failing_after=3)
    from tests.receivers import free_port

    dead = f"json://127.0.0.1:{free_port()}/nobody"
    with SmtpReceiver() as smtp:
        add_contact(session, REG, label="Kadis (server mati)", url=dead, opd="dinkes", site=None,
                    actor="admin")
        add_contact(session, REG, label="Kadis (email)", url=smtp.target("kadis@ambon.go.id"),
                    opd="dinkes", site=None, actor="admin")
        iid = give(session, s)
        worker = NotifierWorker(s)

        def failing() -> bool:
            return bool(audits(session, "notify.failing"))
        wait_for(failing, 60, step=worker.run_once)
        assert len(smtp.counts) == 1  # the good target was not held up
    dead_row = session.scalars(select(OutboxMessage).where(OutboxMessage.url == dead)).one()
    assert dead_row.status == "pending" and dead_row.attempts >= 3  # never dropped
    assert dead_row.last_error and "json://" not in dead_row.last_error  # reason, no target
    status = {d.label: d for d in deliveries(session, [iid], s)[iid]}
    assert status["Kadis (server mati)"].failing and status["Kadis (email)"].status == "sent"
    failing_audit = audits(session, "notify.failing")[0]
    assert failing_audit.detail["attempts"] == 3 and failing_audit.detail["error"]


def test_malformed_target_is_refused_on_entry_and_marked_invalid_if_stored(settings, store,
                                                                          session) -> None:
    for url, words in (("http://example.org/hook", "bukan saluran"), ("json://", "tidak lengkap"),
                       ("mailto://", "tidak lengkap"), ("", "bukan saluran")):
        with pytest.raises(ContactError, match=words):
            add_contact(session, REG, label="X", url=url, opd="dinkes", site=None, actor="admin")
    with pytest.raises(ContactError, match="opd: 'dinas_x' tidak dikenal"):
        add_contact(session, REG, label="X", url="ntfy://topik", opd="dinas_x", site=None,
                    actor="admin")
    with pytest.raises(ContactError, match="site: 'pkm-nowhere' tidak ada"):
        add_contact(session, REG, label="X", url="ntfy://topik", opd="dinkes",
                    site="pkm-nowhere", actor="admin")
    # a target broken after entry (edited in the database by hand) is marked, not retried
    session.add(NotifyContact(opd="dinkes", site=None, label="Rusak", url="json://",
                              created_by="sql", created_at=utcnow()))
    with SmtpReceiver() as smtp:
        add_contact(session, REG, label="Baik", url=smtp.target("a@ambon.go.id"), opd="dinkes",
                    site=None, actor="admin")
        iid = give(session, fast(settings))
        drain(NotifierWorker(fast(settings)), session)
        assert len(smtp.counts) == 1
    status = {d.label: d.status for d in deliveries(session, [iid], settings)[iid]}
    assert status == {"Rusak": "invalid", "Baik": "sent"}
    assert audits(session, "notify.invalid_target")[0].detail["contact"].startswith("db:")


def test_contact_is_shown_masked_and_audited_without_the_target(session) -> None:
    cid = add_contact(session, REG, label="Kadis", url="tgram://123456789:AAHsecretTOKEN/987654",
                      opd="dinkes", site=None, actor="admin")
    assert "secretTOKEN" not in masked(session.get(NotifyContact, cid).url)
    row = audits(session, "contact.add")[0]
    assert row.detail == {"opd": "dinkes", "site": None, "channel": "telegram"}


def test_outbox_is_written_in_the_instructions_transaction(settings, store, session) -> None:
    add_contact(session, REG, label="Kadis", url="ntfy://kadis-dinkes", opd="dinkes", site=None,
                actor="admin")

    def crash(_session) -> None:
        raise RuntimeError("the process dies at commit")
    event.listen(session, "before_commit", crash)
    with pytest.raises(RuntimeError):
        give(session, settings)
    event.remove(session, "before_commit", crash)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Instruction)) == 0
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    iid = give(session, settings)
    assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.instruction_id == iid)) == 1


def test_deadline_defaults_per_alert_kind_and_can_be_set(settings, session) -> None:
    assert default_deadline_min(late_alert()) == 15
    tps = Alert(alert_id="tps_overflow:x", kind=AlertKind.TPS_OVERFLOW, entity_id="x")
    assert default_deadline_min(tps) == 240
    severe = Alert(alert_id="incident:1", kind=AlertKind.INCIDENT, entity_id="1", severity=3)
    assert default_deadline_min(severe) == 30
    assert default_deadline_min(severe.model_copy(update={"severity": 1})) == 480
    iid = give(session, settings)
    row = session.get(Instruction, iid)
    assert abs((row.deadline_at - row.created_at) - timedelta(minutes=15)) < timedelta(seconds=1)
    iid = give(session, settings, deadline_min=45)
    row = session.get(Instruction, iid)
    assert abs((row.deadline_at - row.created_at) - timedelta(minutes=45)) < timedelta(seconds=1)
    with pytest.raises(ActionError, match="batas waktu"):
        give(session, settings, deadline_min=0)


def test_escalation_goes_up_once_per_level(settings, session) -> None:
    for label, opd, site in (("Kapus", "dinkes", PKM.id), ("Kadis", "dinkes", None),
                             ("Sekda", None, None)):
        add_contact(session, REG, label=label, url=f"ntfy://{label.lower()}", opd=opd,
                    site=site, actor="admin")
    iid = give(session, settings, deadline_min=10)
    row = session.get(Instruction, iid)
    assert row.escalation_level == 0
    first = row.deadline_at + timedelta(seconds=1)
    assert escalate_due(session, REG, settings, now=first) == [iid]
    assert escalate_due(session, REG, settings, now=first) == []  # once per level
    session.refresh(row)
    assert row.escalation_level == 1
    second = row.deadline_at + timedelta(seconds=1)
    assert escalate_due(session, REG, settings, now=second) == [iid]
    assert escalate_due(session, REG, settings, now=second + timedelta(days=1)) == []  # top
    labels = [m.contact_label for m in session.scalars(
        select(OutboxMessage).where(OutboxMessage.instruction_id == iid).order_by(OutboxMessage.id))]
    assert labels == ["Kapus", "Kadis", "Sekda"]
    steps = audits(session, "instruction.escalate")
    assert [(a.detail["level"], a.detail["reason"]) for a in steps] == [
        ("opd", "belum diterima"), ("kota", "belum diterima")]
    body = session.scalars(select(OutboxMessage.body).where(
        OutboxMessage.contact_label == "Sekda")).one()
    assert body.startswith("ESKALASI (belum diterima): Instruksi")
