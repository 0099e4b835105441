"""Acknowledgement links, closure by evidence, completion photos and the 'who responds'
board (issue 17), on the real test DB and Redis."""

from __future__ import annotations

import io
import time
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from PIL import Image
from sqlalchemy import select

from ambon_core import ack_links
from ambon_core.actions import (
    ActionError,
    acknowledge_instruction,
    complete,
    instruction_state,
    instructions,
)
from ambon_core.alerts import sync_alerts
from ambon_core.auth import session_secret
from ambon_core.contacts import add_contact
from ambon_core.domain import AlertKind, utcnow
from ambon_core.followup import verify_resolved
from ambon_core.models import AlertRecord, AuditLog, Instruction, OutboxMessage
from ambon_core.responders import board, recent_instructions
from tests.test_notify import REG, audits, give, late_alert


def _token(session, settings) -> tuple[int, str]:
    add_contact(session, REG, label="Kadis Kesehatan", url="ntfy://kadis", opd="dinkes",
                site=None, actor="admin")
    iid = give(session, settings)
    key = session.scalars(select(OutboxMessage.key)).one()
    return iid, ack_links.make_token(settings, iid, key)


def test_link_acknowledges_once_and_is_audited(settings, session) -> None:
    iid, token = _token(session, settings)
    result = ack_links.acknowledge(session, settings, token)
    assert result.instruction_id == iid and result.label == "Kadis Kesehatan"
    row = session.get(Instruction, iid)
    assert row.acknowledged_at is not None and row.acknowledged_by == "Kadis Kesehatan (tautan)"
    with pytest.raises(ack_links.AckRefused, match="sudah dipakai") as reused:
        ack_links.acknowledge(session, settings, token)
    assert reused.value.code == "reused"
    ack_links.refuse(session, reused.value, token)
    audit = audits(session, "instruction.ack_refused")[0]
    assert audit.detail["reason"] == "reused" and token not in str(audit.detail)
    assert audits(session, "instruction.acknowledge")[0].detail["via"] == "link"


def test_expired_and_forged_links_are_refused_in_words(settings, session) -> None:
    iid, token = _token(session, settings)

    class ThreeDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3 * 86400
    old = URLSafeTimedSerializer(session_secret(settings), salt=ack_links.SALT,
                                 signer=ThreeDaysAgo).dumps({"i": iid, "m": "x"})
    with pytest.raises(ack_links.AckRefused, match="kedaluwarsa") as expired:
        ack_links.check(session, settings, old)
    assert expired.value.code == "expired"
    other = URLSafeTimedSerializer("a-different-secret-0123456789abcdef", salt=ack_links.SALT)
    for forged in (token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
                   other.dumps({"i": iid, "m": "x"}), "bukan-token"):
        with pytest.raises(ack_links.AckRefused, match="tidak sah") as refused:
            ack_links.check(session, settings, forged)
        assert refused.value.code == "forged"
    assert session.get(Instruction, iid).acknowledged_at is None  # nothing changed


def test_page_acknowledgement_first_one_counts(settings, session) -> None:
    iid = give(session, settings)
    acknowledge_instruction(session, iid, "kadis.dinkes", "dinkes")
    first = session.get(Instruction, iid).acknowledged_at
    acknowledge_instruction(session, iid, "kadis.dinkes", "dinkes")
    assert session.get(Instruction, iid).acknowledged_at == first
    with pytest.raises(ActionError, match="OPD lain"):
        acknowledge_instruction(session, iid, "kadis.dishub", "dishub")


def test_done_while_alert_active_stays_then_clearing_verifies(settings, store, session) -> None:
    alert = late_alert()
    sync_alerts(store, session, [AlertKind.PUSKESMAS_LATE], [alert])
    iid = give(session, settings, alert=alert)
    complete(session, iid, "kadis.dinkes", "dinkes", note="pintu sudah dibuka")
    assert verify_resolved(session) == []  # the sensors still show the problem
    (item,) = [i for i in instructions(session) if i.id == iid]
    assert instruction_state(item) == "selesai_belum_terverifikasi"  # still on the list
    sync_alerts(store, session, [AlertKind.PUSKESMAS_LATE], [])  # the door opened
    assert verify_resolved(session) == [iid]
    cleared = session.scalars(select(AlertRecord.cleared_at)).one()
    row = session.get(Instruction, iid)
    assert row.verified_at == cleared
    assert iid not in {i.id for i in instructions(session)}  # closed by evidence
    (closed,) = [i for i in instructions(session, open_only=False) if i.id == iid]
    assert instruction_state(closed) == "terverifikasi"
    assert audits(session, "instruction.verified")[0].detail["alert_id"] == alert.alert_id


def test_alert_clearing_without_done_verifies_too(settings, store, session) -> None:
    alert = late_alert()
    sync_alerts(store, session, [AlertKind.PUSKESMAS_LATE], [alert])
    iid = give(session, settings, alert=alert)
    sync_alerts(store, session, [AlertKind.PUSKESMAS_LATE], [])
    assert verify_resolved(session) == [iid]
    assert verify_resolved(session) == []  # once


def _png(size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_completion_photo_is_checked_and_stored_as_jpeg(settings, session) -> None:
    iid = give(session, settings)
    with pytest.raises(ActionError, match="bukan gambar"):
        complete(session, iid, "kadis.dinkes", "dinkes", photo=b"%PDF-1.7 not a photo" * 10)
    with pytest.raises(ActionError, match="bukan gambar"):
        complete(session, iid, "kadis.dinkes", "dinkes", photo=_png()[:60])  # truncated
    with pytest.raises(ActionError, match=r"terlalu besar \(0,0 MB; maks\. 0,0 MB\)|terlalu besar"):
        complete(session, iid, "kadis.dinkes", "dinkes", photo=_png(), photo_max_bytes=100)
    row = session.get(Instruction, iid)
    session.refresh(row)
    assert row.status == "open" and row.done_photo is None  # refused: nothing half-saved
    refused = audits(session, "instruction.photo_refused")
    assert len(refused) == 3 and "bukan gambar" in refused[0].detail["reason"]
    complete(session, iid, "kadis.dinkes", "dinkes", note="sudah", photo=_png())
    session.refresh(row)
    assert row.status == "done" and row.done_photo[:3] == b"\xff\xd8\xff"  # JPEG
    assert Image.open(io.BytesIO(row.done_photo)).size == (64, 48)
    assert session.scalars(select(AuditLog.detail).where(
        AuditLog.action == "instruction.done")).one()["photo"] is True


def test_board_counts_open_overdue_medians_and_oldest(settings, store, session) -> None:
    now = utcnow()
    ids = [give(session, settings, alert=late_alert(p), deadline_min=15) for p in REG.puskesmas[:4]]
    rows = {i: session.get(Instruction, i) for i in ids}
    # shape history: given 40, 20, 10 and 5 minutes ago; two acknowledged, one verified
    for n, (iid, minutes) in enumerate(zip(ids, (40, 20, 10, 5), strict=True)):
        rows[iid].created_at = now - timedelta(minutes=minutes)
        rows[iid].deadline_at = rows[iid].created_at + timedelta(minutes=15)
        if n < 2:
            rows[iid].acknowledged_at = rows[iid].created_at + timedelta(minutes=2 + 2 * n)
    rows[ids[0]].verified_at = rows[ids[0]].created_at + timedelta(minutes=30)
    session.commit()
    items = recent_instructions(session, now)
    (dinkes, dishub) = board(items, now, ["dinkes", "dishub"])
    assert dinkes.open == 3 and dinkes.overdue == 1  # 20 min old, past its 15 min
    assert dinkes.ack_median_s[7] == 180 and dinkes.ack_median_s[30] == 180  # 2 and 4 min
    assert dinkes.verified_median_s[7] == 1800
    assert abs(dinkes.oldest_open_s - 1200) < 5
    assert (dishub.open, dishub.overdue, dishub.oldest_open_s) == (0, 0, None)
