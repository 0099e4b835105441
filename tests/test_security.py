"""Issue 13 through the real UI (AppTest on a real Redis and SQL): refused actions are
explained and audited, actions are offered only to who may take them, data stays text,
and every figure an OPD head sees comes from what that head may see."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from ambon_core import auth as core
from ambon_core.actions import instruct, instructions
from ambon_core.alert_kinds import owner_of
from ambon_core.domain import Alert, AlertKind, PuskesmasState, PuskesmasStatus, utcnow
from ambon_core.models import AlertAction, AuditLog, IncidentRecord
from ambon_core.registry import load_registry
from ambon_core.settings import ROOT, get_settings
from ambon_core.store import Store
from components.i18n import translate
from components.nav import PAGES
from tests import markdown
from tests.login import city_opds, login, make_user
from tests.test_pages import seed

APP = str(ROOT / "app.py")
REFUSED = translate("access.denied_action")
REG = load_registry()


def camera_alert(kind: AlertKind, camera_id: str) -> Alert:
    """An alert as the camera pipeline raises it: no department named at the raise site."""
    cam = REG.camera(camera_id)
    return Alert(alert_id=f"{kind.value}:{cam.id}", kind=kind, entity_id=cam.id, severity=2,
                 params={"camera": cam.name})


def first_camera(kind: str) -> str:
    return next(c.id for c in REG.cameras if c.kind.value == kind)


CITY_ALERTS = [
    camera_alert(AlertKind.CONGESTION, first_camera("traffic")),
    camera_alert(AlertKind.DUMPING, first_camera("tps")),
    camera_alert(AlertKind.QUEUE_LONG, first_camera("puskesmas")),
    Alert(alert_id="puskesmas_late:pkm-waihoka", kind=AlertKind.PUSKESMAS_LATE,
          entity_id="pkm-waihoka", params={"name": "Puskesmas Waihoka"}),
]


@pytest.fixture
def app_env(store: Store, session, monkeypatch) -> Iterator[Store]:
    """A fresh server process whose sessions re-read their user only once an hour, so a
    button offered before a role change is still on screen when it is pressed: the
    moment ``authorize`` (which never uses that cache) has to refuse."""
    import streamlit as st

    monkeypatch.setenv("SESSION_RECHECK_S", "3600")
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    seed(store)
    store.put(*CITY_ALERTS)
    yield store
    get_settings.cache_clear()


def as_user(session, name: str, page: str) -> AppTest:
    role, _, opd = name.partition(":")
    at = login(AppTest.from_file(APP, default_timeout=60), session, role, opd or None,
               username=name.replace(":", "."))
    if page != "ringkasan":
        at.switch_page(PAGES[page][0] if page in PAGES else "pages/admin.py").run()
    assert not at.exception, at.exception
    return at


def offered(at: AppTest) -> set[str]:
    """Alert ids that carry a 'Tindak lanjut' form (its note field is keyed by the id)."""
    return {w.key.rsplit("_", 1)[0].split("_", 2)[-1] for w in at.text_input
            if w.key and w.key.endswith("_note")}


def denials(session, attempted: str) -> list[AuditLog]:
    session.expire_all()
    return [r for r in session.scalars(select(AuditLog).where(AuditLog.action == "access.denied"))
            if (r.detail or {}).get("attempted") == attempted]


def demote(session, name: str, role: str, opd: str | None) -> None:
    core.set_role(session, name, role, opd, actor="admin", known_opds=city_opds())


def press(at: AppTest, label: str) -> AppTest:
    [b for b in at.button if b.label == label][0].click().run()
    assert not at.exception, at.exception
    return at


# --- finding 1: every refusal is explained and audited, through the UI --------------------

def test_refused_acknowledge(app_env, session) -> None:
    at = as_user(session, "opd:dishub", "lalu_lintas")
    assert offered(at)  # the traffic alert is the department's own
    demote(session, "opd.dishub", "opd", "dlh")  # moved while the page is open
    press(at, "Tandai sudah dilihat")
    assert REFUSED in [e.value for e in at.error]
    assert [r.target for r in denials(session, "acknowledge")] == [
        f"alert:{CITY_ALERTS[0].alert_id}"]
    assert session.scalars(select(AlertAction)).all() == []


def test_refused_instruction(app_env, session) -> None:
    at = as_user(session, "opd:dishub", "lalu_lintas")
    key = next(w.key for w in at.text_area if w.key.endswith("_text"))
    at.text_area(key=key).input("Kirim petugas ke simpang")
    demote(session, "opd.dishub", "opd", "dlh")
    press(at, "Kirim instruksi")
    assert REFUSED in [e.value for e in at.error]
    assert denials(session, "instruct")[0].detail["item_opd"] == "dishub"
    assert instructions(session) == []


def test_refused_mark_done(app_env, session) -> None:
    ident = instruct(session, CITY_ALERTS[3], "dinkes", "Buka puskesmas", "walikota", city_opds())
    at = as_user(session, "opd:dinkes", "puskesmas")
    demote(session, "opd.dinkes", "opd", "dlh")
    press(at, "Selesai")
    assert REFUSED in [e.value for e in at.error]
    assert [r.target for r in denials(session, "complete")] == [f"instruction:{ident}"]
    assert [i.status for i in instructions(session)] == ["open"]


def test_refused_user_management(app_env, session) -> None:
    at = as_user(session, "admin", "admin")
    at.text_input(key="new_username").input("kadis.baru")
    at.text_input(key="new_password").input("sandi-kadis-baru-2026")
    demote(session, "admin", "walikota", None)
    at.button(key="new_submit").click().run()
    assert not at.exception, at.exception
    assert REFUSED in [e.value for e in at.error]
    assert [r.target for r in denials(session, "manage_users")] == ["user:kadis.baru"]
    assert core.find_user(session, "kadis.baru") is None


# --- findings 2 and 8: an action is offered only to who may take it -----------------------

def test_camera_alerts_belong_to_their_department(app_env, session) -> None:
    """Each department head is offered follow-up exactly on its own alerts, on its own
    page, camera alerts included; the overview is read-only for them."""
    live = app_env.read_live().alerts
    assert {a.alert_id: a.opd for a in CITY_ALERTS} == {
        i: owner_of(a.kind) for i, a in live.items() if i in {c.alert_id for c in CITY_ALERTS}}
    for name, page in (("opd:dishub", "lalu_lintas"), ("opd:dlh", "sampah"),
                       ("opd:dinkes", "puskesmas")):
        at = as_user(session, name, "ringkasan")
        assert offered(at) == set(), name  # finding 8: Ringkasan is read-only for them
        at.switch_page(PAGES[page][0]).run()
        own = {a.alert_id for a in live.values() if a.opd == name.partition(":")[2]
               and a.kind.value in {k for k, p in _alert_pages().items() if p == page}}
        assert own and offered(at) == own, (name, offered(at), own)


def test_mayor_is_offered_every_alert_on_the_overview(app_env, session) -> None:
    at = as_user(session, "walikota", "ringkasan")
    live = app_env.read_live().alerts
    assert offered(at) == set(live)  # fewer than the list's limit of 8


def test_dishub_cannot_act_on_a_dinkes_alert_from_the_overview(app_env, session) -> None:
    """The review's reproduction: no 'Tindak lanjut' on a Dinkes alert for Dishub."""
    at = as_user(session, "opd:dishub", "ringkasan")
    assert "puskesmas_late:pkm-waihoka" not in offered(at)
    assert not [b for b in at.button if b.label == "Tandai sudah dilihat"]
    # 'Buka' only where the page opens for this head (Lalu Lintas), never to a refusal
    opened = [p.proto.query_string for p in at.get("page_link") if p.label == "Buka"]
    traffic = [a for a in app_env.read_live().alerts.values() if a.opd == "dishub"]
    assert sorted(opened) == sorted(f"focus={a.entity_id}" for a in traffic)


def _alert_pages() -> dict[str, str]:
    from components.nav import ALERT_PAGE

    return ALERT_PAGE


# --- finding 4: data reaches Markdown only as text ----------------------------------------

@pytest.mark.parametrize("value", ["[Login ulang](http://evil)", "![x](http://host/img.png)",
                                   "<img src=x onerror=alert(1)>", ":red[**PALSU**] $x^2$",
                                   "www.evil.example", "phish@evil.example"])
def test_focus_parameter_is_shown_as_text(app_env, session, value: str) -> None:
    at = as_user(session, "walikota", "ringkasan")
    at.query_params["focus"] = value
    at.switch_page(PAGES["puskesmas"][0]).run()
    note = next(i.value for i in at.info if "tidak ditemukan" in i.value)
    assert markdown.active_markup(note) == []
    assert markdown.text(note) == f"Item '{value}' tidak ditemukan"


def test_feed_values_names_and_display_names_are_text(app_env, session) -> None:
    hostile = "[klik](http://evil) ![b](http://beacon/p.png)"
    app_env.put(PuskesmasState(puskesmas_id="pkm-waihoka", status=PuskesmasStatus.BELUM_BUKA,
                               scheduled_open=hostile, waiting=2),
                Alert(alert_id="feed-x", kind=AlertKind.FEED_DEGRADED, entity_id="x",
                      params={"name": hostile, "failures": 3}))
    make_user(session, "walikota", "walikota")
    user = core.find_user(session, "walikota")
    user.display_name = "**Bos** ![t](http://beacon/t.png)"
    session.commit()
    at = as_user(session, "walikota", "ringkasan")
    at.query_params["focus"] = "pkm-waihoka"
    at.switch_page(PAGES["puskesmas"][0]).run()
    shown = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert any("beacon" in s for s in shown)  # the hostile values are on screen …
    ours_only = [(s, markdown.active_markup(s)) for s in shown
                 if set(markdown.active_markup(s)) - {"strong"}]  # the app's own bold labels
    assert ours_only == []
    assert not any("<img" in markdown.html(s) or "<a " in markdown.html(s) for s in shown)
    at.switch_page(PAGES["ringkasan"][0]).run()
    alert_rows = [m.value for m in at.markdown if "beacon" in m.value]
    assert alert_rows and all("<a " not in markdown.html(r) for r in alert_rows)


# --- finding 9: figures of an OPD head come from what the head may see --------------------

def test_incident_figures_are_scoped_to_the_department(app_env, session) -> None:
    now = utcnow()
    own = sorted(next(o for o in REG.opds if o.code == "bpbd").incident_categories)[0]
    other = next(c for o in REG.opds if o.code == "damkar" for c in o.incident_categories)
    for i, category in enumerate([own, other, other]):
        t0 = now - timedelta(hours=2 + i)
        session.add(IncidentRecord(
            incident_id=f"112-s{i}", source="open311", category=category, title=category,
            status="resolved", agencies=["bpbd" if category == own else "damkar"],
            reported_at=t0, updated_at=now, dispatched_at=t0 + timedelta(minutes=5 + i),
            on_scene_at=t0 + timedelta(minutes=20), resolved_at=t0 + timedelta(hours=1)))
    session.commit()
    at = as_user(session, "opd:bpbd", "insiden")
    at.segmented_control(key="inc_by").set_value("category").run()
    table = next(d.value for d in at.dataframe if "Jumlah insiden" in d.value.columns)
    assert list(table.iloc[:, 0]) == [own] and list(table["Jumlah insiden"]) == ["1"]
    mayor = as_user(session, "walikota", "insiden")
    mayor.segmented_control(key="inc_by").set_value("category").run()
    table = next(d.value for d in mayor.dataframe if "Jumlah insiden" in d.value.columns)
    assert sorted(table.iloc[:, 0]) == sorted([own, other])
