"""The follow-up of instructions on the pages (issue 17), in Streamlit AppTest on the real
test Redis and DB: instructing with a deadline, delivery status without targets, the
acknowledgement-link page, the Admin contacts tab and the who-responds board."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from ambon_core import ack_links
from ambon_core.actions import instructions
from ambon_core.contacts import add_contact
from ambon_core.models import AuditLog, Instruction, OutboxMessage
from components.nav import ADMIN_PAGE, PAGES
from tests.login import login
from tests.test_notify import REG
from tests.test_pages import APP, seed

SECRET_TARGET = "ntfy://rahasia-topik-kadis-7431"


@pytest.fixture
def fresh() -> None:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()


def _all_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [x.value for x in at.text] + [e.value for e in at.error] + [s.value for s in at.success]
    parts += [str(d.value.to_dict()) for d in [*at.dataframe, *at.table]]
    return "\n".join(str(p) for p in parts)


def _instruct(at: AppTest, minutes: int) -> None:
    key = "overview_alerts_puskesmas_late:pkm-waihoka"
    at.selectbox(key=f"{key}_opd").set_value("dinkes")
    at.text_area(key=f"{key}_text").input("Segera buka pintu, warga menunggu")
    at.number_input(key=f"{key}_deadline").set_value(minutes)
    [b for b in at.button if b.label == "Kirim instruksi"][0].click().run()
    assert not at.exception


def test_mayor_instructs_with_deadline_and_sees_delivery_without_target(fresh, store,
                                                                       session) -> None:
    add_contact(session, REG, label="Kadis Kesehatan", url=SECRET_TARGET, opd="dinkes",
                site=None, actor="admin")
    seed(store)
    at = login(AppTest.from_file(APP, default_timeout=60), session, "walikota")
    assert at.number_input(key="overview_alerts_puskesmas_late:pkm-waihoka_deadline").value == 15
    _instruct(at, 30)
    (item,) = instructions(session, opd="dinkes")
    row = session.get(Instruction, item.id)
    assert (row.deadline_at - row.created_at).total_seconds() == pytest.approx(1800, abs=2)
    assert row.place == "Puskesmas Waihoka" and "belum buka" in row.problem
    assert session.scalars(select(OutboxMessage.contact_label)).all() == ["Kadis Kesehatan"]
    at.run()
    text = _all_text(at)
    assert "Kadis Kesehatan · ntfy · kepala OPD: menunggu kirim" in text
    assert "belum diterima" in text
    assert "rahasia" not in text  # the target itself is never on a page


@pytest.mark.parametrize("role,opd", [("walikota", None), ("opd", "dinkes")])
def test_targets_never_on_any_page_but_admin(fresh, store, session, role, opd) -> None:
    add_contact(session, REG, label="Kadis Kesehatan", url=SECRET_TARGET, opd="dinkes",
                site=None, actor="admin")
    seed(store)
    at = login(AppTest.from_file(APP, default_timeout=60), session, role, opd)
    _instruct(at, 20) if role == "walikota" else None
    for path, *_ in PAGES.values():
        at.switch_page(path).run()
        assert not at.exception
        assert "rahasia-topik" not in _all_text(at), path


def test_admin_keeps_contacts_validated_and_masked(fresh, store, session) -> None:
    at = login(AppTest.from_file(APP, default_timeout=60), session, "admin")
    at.switch_page(ADMIN_PAGE[0]).run()
    at.text_input(key="contact_label").input("Kadis Kesehatan")
    at.selectbox(key="contact_opd").set_value("dinkes")
    at.text_input(key="contact_url").input("https://tidak-didukung.example/hook")
    at.button(key="contact_submit").click().run()
    assert any("bukan saluran yang didukung" in e.value for e in at.error)
    at.text_input(key="contact_label").input("Kadis Kesehatan")
    at.selectbox(key="contact_opd").set_value("dinkes")
    at.text_input(key="contact_url").input("tgram://123456789:AAHsecretTOKENvalue/987654321")
    at.button(key="contact_submit").click().run()
    assert not at.error
    table = _table(at, "Penerima")
    assert list(table["Penerima"]) == ["Kadis Kesehatan"] and list(table["Saluran"]) == ["telegram"]
    assert "secretTOKEN" not in str(table.to_dict())
    actions = set(session.scalars(select(AuditLog.action)))
    assert "contact.add" in actions


def _table(at: AppTest, column: str):
    """The dataframe with ``column`` (AppTest does not look dataframes up by key)."""
    for frame in [d.value for d in at.dataframe] + [x.value for x in at.table]:
        frame = frame.reset_index() if column not in frame.columns else frame
        if column in frame.columns:
            return frame
    raise AssertionError(f"no table with column {column}")


def _ack_app(token: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["ack"] = token
    return at.run()


def test_ack_link_page_acknowledges_once_and_explains_refusals(fresh, store, session,
                                                              settings) -> None:
    add_contact(session, REG, label="Kadis Kesehatan", url=SECRET_TARGET, opd="dinkes",
                site=None, actor="admin")
    seed(store)
    _instruct(login(AppTest.from_file(APP, default_timeout=60), session, "walikota"), 20)
    message = session.scalars(select(OutboxMessage)).one()
    token = ack_links.make_token(settings, message.instruction_id, message.key)
    at = _ack_app(token)
    assert not at.exception
    assert "Segera buka pintu" in _all_text(at) and "Penerima: Kadis Kesehatan" in _all_text(at)
    assert not [b for b in at.button if b.label == "Keluar"]  # no session, no menu
    at.button(key="ack_submit").click().run()
    assert any("ditandai diterima" in s.value for s in at.success)
    session.expire_all()
    assert session.get(Instruction, message.instruction_id).acknowledged_at is not None
    again = _ack_app(token)
    assert any("sudah dipakai" in e.value for e in again.error)
    forged = _ack_app(token[:-4] + "abcd")
    assert any("tidak sah" in e.value for e in forged.error)
    reasons = [a.detail["reason"] for a in session.scalars(
        select(AuditLog).where(AuditLog.action == "instruction.ack_refused").order_by(AuditLog.id))]
    assert reasons == ["reused", "forged"]


def test_board_for_the_mayor_and_for_one_department(fresh, store, session) -> None:
    seed(store)
    at = login(AppTest.from_file(APP, default_timeout=60), session, "walikota")
    _instruct(at, 20)
    at.run()
    board = _table(at, "Lewat batas")
    assert {"Dinas Kesehatan", "Dinas Perhubungan"} <= set(board["OPD"])
    dinkes = board[board["OPD"] == "Dinas Kesehatan"].iloc[0]
    assert dinkes["Terbuka"] == 1 and dinkes["Lewat batas"] == 0
    head = login(AppTest.from_file(APP, default_timeout=60), session, "opd", "dishub")
    own = _table(head, "Lewat batas")
    assert list(own["OPD"]) == ["Dinas Perhubungan"] and own.iloc[0]["Terbuka"] == 0


def test_message_carries_no_citizen_data_from_an_incident(fresh, store, session) -> None:
    """An incident's title may hold a caller's name and number: the message names the
    category only (the public view of the alert), never the feed's text."""
    from ambon_core.domain import Alert, AlertKind, Incident

    add_contact(session, REG, label="Kalak BPBD", url=SECRET_TARGET, opd="bpbd", site=None,
                actor="admin")
    store.put(Incident(incident_id="112-88", category="banjir", severity=3,
                       title="Banjir, pelapor Budi Latuconsina 0812-4455-6677",
                       description="Rumah Pak Budi di Jl. Sultan Babullah 12 terendam"),
              Alert(alert_id="incident:112-88", kind=AlertKind.INCIDENT, entity_id="112-88",
                    severity=3, opd="bpbd", params={"name": "Banjir, pelapor Budi Latuconsina "
                                                            "0812-4455-6677", "category": "banjir"}))
    at = login(AppTest.from_file(APP, default_timeout=60), session, "walikota")
    key = "overview_alerts_incident:112-88"
    at.selectbox(key=f"{key}_opd").set_value("bpbd")
    at.text_area(key=f"{key}_text").input("Kirim tim ke lokasi")
    assert at.number_input(key=f"{key}_deadline").value == 30  # severity 3
    [b for b in at.button if b.label == "Kirim instruksi"][-1].click().run()
    assert not at.exception
    (body,) = session.scalars(select(OutboxMessage.body)).all()
    assert "Masalah: Insiden: Banjir" in body
    for personal in ("Budi", "0812", "Babullah", "Latuconsina"):
        assert personal not in body
