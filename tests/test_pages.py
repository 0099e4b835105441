"""Every page through Streamlit's AppTest, on a real Redis seeded like the workers do."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from ambon_core.domain import (
    Alert,
    AlertKind,
    CameraKind,
    CameraState,
    CameraStatus,
    Congestion,
    Incident,
    PuskesmasState,
    PuskesmasStatus,
    ServiceOfficeState,
    TpsState,
)
from ambon_core.registry import load_registry
from ambon_core.settings import ROOT
from ambon_core.store import Store
from components.i18n import translate
from components.nav import PAGES
from tests import markdown
from tests.login import login

APP = str(ROOT / "app.py")
REG = load_registry()  # the registry in use: expectations come from it, not from copies


def seed(store: Store) -> None:
    store.put(
        PuskesmasState(puskesmas_id="pkm-waihoka", status=PuskesmasStatus.BELUM_BUKA,
                       minutes_late=20, waiting=12, scheduled_open="08:00"),
        PuskesmasState(puskesmas_id="pkm-benteng", status=PuskesmasStatus.BUKA, waiting=3),
        # the status worker writes every office's state too (puskesmas included)
        ServiceOfficeState(office_id="pkm-waihoka", office_type="puskesmas",
                           status=PuskesmasStatus.BELUM_BUKA, minutes_late=20, waiting=12),
        ServiceOfficeState(office_id="pkm-benteng", office_type="puskesmas",
                           status=PuskesmasStatus.BUKA, waiting=3),
        CameraState(camera_id="cam-lalin-01", kind=CameraKind.TRAFFIC, status=CameraStatus.OK,
                    congestion=Congestion.MACET, objects={"car": 9, "motorcycle": 20}),
        # no speed measured at the first camera, a fractional one at the next: the mix
        # that made one table column hold '–' and floats (ArrowTypeError, issue 13)
        CameraState(camera_id="cam-lalin-02", kind=CameraKind.TRAFFIC, status=CameraStatus.OK,
                    congestion=Congestion.LANCAR, mean_speed_px_s=4.5, occupancy=0.12,
                    infer_fps=4.5),
        TpsState(tps_id="tps-batu-merah", fill=0.93, overflow=True),
        Incident(incident_id="112-77", category="banjir", title="Banjir di Batu Merah",
                 severity=3, lat=-3.688, lon=128.19, kecamatan="Sirimau"),
        Alert(alert_id="puskesmas_late:pkm-waihoka", kind=AlertKind.PUSKESMAS_LATE,
              entity_id="pkm-waihoka", severity=3,
              params={"name": "Puskesmas Waihoka", "minutes_late": 20, "waiting": 12,
                      "scheduled_open": "08:00"}),
    )


@pytest.fixture
def app(store: Store, session) -> Iterator[AppTest]:
    """The app, logged in as the mayor through the login form (tests/login.py)."""
    import streamlit as st

    st.cache_data.clear()  # as if each test were a fresh server process
    st.cache_resource.clear()
    at = login(AppTest.from_file(APP, default_timeout=60), session, "walikota")
    st.cache_data.clear()  # the login run read the live state; tests seed theirs after
    yield at


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [str(m.value) for m in at.metric] + [m.label for m in at.metric]
    parts += [e.value for e in at.error] + [w.value for w in at.warning] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


def _open(app: AppTest, page: str) -> AppTest:
    app.run()
    if page != "ringkasan":
        app.switch_page(PAGES[page][0]).run()
    assert not app.exception, app.exception
    return app


def _metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def _table(app: AppTest, column: str):
    return next(d.value for d in app.dataframe if column in d.value.columns)


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_on_empty_city(app: AppTest, page: str) -> None:
    """A new city with no data: the page's own title, every count zero or unknown, and an
    honest 'belum ada data' (or 'no active alerts') instead of invented values."""
    _open(app, page)
    assert app.title[0].value == translate(PAGES[page][1])
    # all unknown, none on: every camera, every puskesmas, every service office
    unknown = {f"0/{len(REG.cameras)}", str(len(REG.puskesmas)),
               str(len(REG.puskesmas) + len(REG.offices))}
    assert {v for v in _metrics(app).values()} <= {"0", "0,0", "-"} | unknown, _metrics(app)
    honest = [i.value for i in app.info] + [x.value for x in app.success] + [
        c.value for c in app.caption]
    marker = {"kamera": translate("camera.no_signal"), "ringkasan": translate("alerts.none")}
    assert marker.get(page, translate("no_data")) in honest, honest


def col(name: str) -> str:
    return translate(f"col.{name}")


def _expect_live(app: AppTest, store: Store, page: str) -> None:
    """The seeded values, as each page must show them (names from the registry in use)."""
    m = _metrics(app)
    pkm = next(p for p in REG.puskesmas if p.id == "pkm-waihoka")
    cam = REG.camera("cam-lalin-01")
    tps = next(t for t in REG.tps if t.id == "tps-batu-merah")
    if page == "ringkasan":
        assert (m["Belum buka"], m["Titik macet"], m["TPS penuh"], m["Insiden terbuka"]) == \
            ("1", "1", "1", "1")
        online = sum(1 for c in store.read_live().cameras.values() if c.status == CameraStatus.OK)
        assert m["Kamera aktif"] == f"{online}/{len(REG.cameras)}"
    elif page == "puskesmas":
        assert (m["Belum buka"], m["Buka"]) == ("1", "1")
        table = _table(app, col("waiting"))
        assert table.iloc[0][col("name")] == pkm.name and table.iloc[0][col("waiting")] == "12"
    elif page == "lalu_lintas":
        assert m["Macet"] == "1"
        row = _table(app, col("congestion")).set_index(col("camera")).loc[cam.name]
        assert row[col("congestion")] == "Macet" and row[col("vehicles")] == "29"
        assert row[col("speed")] == "–"  # none measured (the next camera: 4,5)
    elif page == "sampah":
        assert m["TPS penuh"] == "1"
        assert _table(app, col("fill")).set_index(col("name")).loc[tps.name, col("fill")] == "93%"
    elif page == "insiden":
        assert m["Tinggi"] == "1"
        assert list(_table(app, col("title"))[col("title")]) == ["Banjir di Batu Merah"]
    elif page == "kamera":
        row = _table(app, col("infer_ms")).set_index(col("camera")).loc[cam.name]
        assert row[col("status")] == translate("camera.ok")


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_shows_live_values(app: AppTest, store: Store, page: str) -> None:
    seed(store)
    _expect_live(_open(app, page), store, page)


def test_refresh_shows_new_values(app: AppTest, store: Store) -> None:
    """AppTest does not tick run_every: change Redis and run again, as a refresh does,
    until the shared live read (one per UI_SHARED_CACHE_S) has the new incident."""
    import time

    seed(store)
    app.run()
    assert _metrics(app)["Insiden terbuka"] == "1"
    store.put(Incident(incident_id="112-78", category="kebakaran", title="Kebakaran"))
    deadline = time.monotonic() + 20
    while _metrics(app.run())["Insiden terbuka"] != "2" and time.monotonic() < deadline:
        time.sleep(0.1)  # between two reruns, not in place of one
    assert _metrics(app)["Insiden terbuka"] == "2"


def test_english_switch(app: AppTest, store: Store, session) -> None:
    seed(store)
    app = AppTest.from_file(APP, default_timeout=60)  # ?lang=en from the first (login) run on
    app.query_params["lang"] = "en"
    login(app, session, "walikota")
    assert app.title[0].value == "Overview"
    assert "Not open yet" in [m.label for m in app.metric]


def test_redis_outage_is_a_banner_not_a_traceback(app: AppTest, monkeypatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    from ambon_core.settings import get_settings

    get_settings.cache_clear()
    import streamlit as st

    st.cache_data.clear()  # the login run already connected with the good URL
    st.cache_resource.clear()
    app.run()
    assert not app.exception
    assert any("terputus" in e.value for e in app.error)


def test_feed_text_is_shown_as_text(app: AppTest, store: Store) -> None:
    title = "<script>alert(1)</script> **tebal** [klik](http://evil)"
    store.put(Incident(incident_id="112-x", category="banjir", severity=3, title=title))
    app.query_params["focus"] = "112-x"
    app.run()
    app.switch_page(PAGES["insiden"][0]).run()
    assert not app.exception
    heading = next(h.value for h in app.subheader if "script" in h.value)
    assert markdown.active_markup(heading) == [] and markdown.text(heading) == title
    assert title in list(_table(app, col("title"))[col("title")])  # the table: text cells


def test_instruction_from_overview_reaches_the_department(app: AppTest, store: Store,
                                                          session) -> None:
    """The mayor instructs Dinkes on an alert; Dinkes sees it on its page and marks it done."""
    seed(store)
    app.run()
    app.selectbox(key="overview_alerts_puskesmas_late:pkm-waihoka_opd").set_value("dinkes")
    app.text_area(key="overview_alerts_puskesmas_late:pkm-waihoka_text").input(
        "Segera buka puskesmas, warga menunggu")
    form_buttons = [b for b in app.button if b.label == "Kirim instruksi"]
    form_buttons[0].click().run()
    assert not app.exception
    from ambon_core.actions import instructions

    sent = instructions(session, opd="dinkes")
    assert [i.text for i in sent] == ["Segera buka puskesmas, warga menunggu"]
    app.switch_page(PAGES["puskesmas"][0]).run()
    done = [b for b in app.button if b.label == "Selesai"]
    assert done, "the instruction is listed on the Dinkes page"
    done[0].click().run()
    session.expire_all()
    # issue 17: "done" while the alert is still active is not closed: it stays listed,
    # "selesai, belum terverifikasi", until the alert clears (tests/test_instruction_closure.py)
    from ambon_core.actions import instruction_state

    (item,) = instructions(session, opd="dinkes")
    assert item.status == "done" and instruction_state(item) == "selesai_belum_terverifikasi"


def test_empty_instruction_is_refused(app: AppTest, store: Store, session) -> None:
    seed(store)
    app.run()
    [b for b in app.button if b.label == "Kirim instruksi"][0].click().run()
    assert any("tidak boleh kosong" in e.value for e in app.error)
    from ambon_core.actions import instructions

    assert instructions(session) == []


@pytest.mark.parametrize("value", ["pkm-waihoka", "pkm-tidak-ada", "<script>", "x" * 500])
def test_focus_parameter(app: AppTest, store: Store, value: str) -> None:
    """?focus= opens the item when it exists; anything else is a polite note that shows
    the (shortened) value as text."""
    seed(store)
    app.query_params["focus"] = value
    app.switch_page(PAGES["puskesmas"][0]).run()
    assert not app.exception
    notes = [i.value for i in app.info if "tidak ditemukan" in i.value]
    if value == "pkm-waihoka":
        name = next(p.name for p in REG.puskesmas if p.id == value)
        assert name in [h.value for h in app.subheader] and not notes
    else:
        assert [markdown.text(n) for n in notes] == [f"Item '{value[:60]}' tidak ditemukan"]
        assert markdown.active_markup(notes[0]) == []


@pytest.mark.parametrize("query", [{"kiosk": "1", "pages": "sampah,bogus", "every": "abc"},
                                   {"kiosk": "1", "every": "-5"}, {"kiosk": "maybe"}])
def test_malformed_kiosk_parameters_fall_back(app: AppTest, store: Store, query: dict) -> None:
    seed(store)
    for k, v in query.items():
        app.query_params[k] = v
    app.run()
    assert not app.exception
    assert app.title[0].value == "Ringkasan"


def test_incident_history_and_response_times(app: AppTest, store: Store, session) -> None:
    from datetime import timedelta

    from ambon_core.domain import utcnow
    from ambon_core.models import IncidentRecord

    now = utcnow()
    for i, (dispatch_min, scene_min) in enumerate([(4, 20), (15, 45)]):
        t0 = now - timedelta(hours=3 + i)
        session.add(IncidentRecord(
            incident_id=f"112-h{i}", source="open311", category="banjir", title="Banjir",
            status="resolved", agencies=["bpbd"], reported_at=t0, updated_at=now,
            dispatched_at=t0 + timedelta(minutes=dispatch_min),
            on_scene_at=t0 + timedelta(minutes=dispatch_min + scene_min),
            resolved_at=t0 + timedelta(hours=2)))
    session.commit()
    seed(store)
    app.run()
    app.switch_page(PAGES["insiden"][0]).run()
    assert not app.exception, app.exception
    table = next(d.value for d in app.dataframe if "Panggilan → pengiriman" in d.value.columns)
    row = table[table["Instansi"] == "bpbd"].iloc[0]
    assert row["Panggilan → pengiriman"] == "9,5"  # median of 4 and 15 minutes, in Indonesian
    assert row["Jumlah insiden"] == "2"


def test_custom_history_range(app: AppTest, store: Store, session) -> None:
    """'Pilih tanggal' bounds the history to whole WIT days, both ends included."""
    from datetime import datetime, timedelta

    from ambon_core.domain import PuskesmasState
    from ambon_core.history import record_puskesmas_change
    from components.history import custom_range

    wit = ZoneInfo("Asia/Jayapura")
    today = datetime.now(wit).date()
    inside = datetime.combine(today - timedelta(days=2), datetime.min.time(), wit) + \
        timedelta(hours=9)
    outside = inside - timedelta(days=3)
    for at, status in ((outside, PuskesmasStatus.BUKA), (inside, PuskesmasStatus.BELUM_BUKA)):
        record_puskesmas_change(session, PuskesmasState(puskesmas_id="pkm-waihoka", status=status,
                                                        minutes_late=15, updated_at=at))
    session.commit()
    span = custom_range(today, today - timedelta(days=2))  # backwards is understood
    assert span.start.date() == today - timedelta(days=2) and span.end.date() == today + \
        timedelta(days=1)
    seed(store)
    app.switch_page(PAGES["puskesmas"][0]).run()
    app.segmented_control(key="pkm_range").set_value("custom").run()
    app.date_input(key="pkm_range_dates").set_value((today - timedelta(days=2), today)).run()
    assert not app.exception, app.exception
    table = next(d.value for d in app.dataframe if "Hari tidak buka" in d.value.columns)
    assert list(table["Hari tidak buka"]) == ["1"]  # only the day inside the range


def test_table_counts_with_gaps_are_whole_numbers() -> None:
    """A count column with a missing value arrives as floats: shown 3, not 3.0; '–' for none."""
    def table_app() -> None:
        import pandas as pd

        from components.tables import show_table

        show_table(pd.DataFrame({"name": ["a", "b"], "waiting": [3.0, None], "speed": [1.26, None]}),
                   {"name": "col.name", "waiting": "col.waiting", "speed": "col.speed"}, key="t")

    at = AppTest.from_function(table_app).run()
    assert not at.exception, at.exception
    rows = at.dataframe[0].value.astype(str).values.tolist()
    assert rows == [["a", "3", "1,3"], ["b", "–", "–"]]


@pytest.mark.parametrize("name", ["puskesmas", "lalu_lintas", "sampah", "insiden", "kamera",
                                  "layanan_publik"])
def test_the_wall_draws_no_filters_or_range_pickers(store: Store, name: str) -> None:
    """Nobody touches the city-hall wall: its pages show their default range (and say which)
    instead of controls (the wall's Layanan Publik showed type pills and a kecamatan box)."""
    from components.nav import PAGES

    seed(store)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"kiosk": "1", "pages": name, "every": "600"})
    at.run()
    at.switch_page(PAGES[name][0]).run()
    assert not at.exception, at.exception
    controls = [w for kind in ("segmented_control", "multiselect", "button_group", "selectbox",
                               "date_input", "text_input") for w in at.get(kind)]
    assert controls == [], [(type(w).__name__, getattr(w, "label", "")) for w in controls]
    if name != "kamera":
        assert any(c.value.startswith("Rentang waktu: ") for c in at.caption)
